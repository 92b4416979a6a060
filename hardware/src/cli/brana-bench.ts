// brana-bench: start a bench rig (simulated meters on a pty and TCP, GPIO wires, pulse trains) and
// check the device profile catalogue. Errors are one line with the fix; exit codes 0 ok, 1 failed, 2 usage.

import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { BenchError } from '../bench/errors.ts';
import { CONSOLE_HELP, parseConsoleCommand } from '../bench/rig/console.ts';
import { renderRigJsonSchema } from '../bench/rig/json-schema.ts';
import { loadRigFile, RigError } from '../bench/rig/load.ts';
import { describeEndpoints, type RunningRig, startRig } from '../bench/rig/start-rig.ts';
import { realClock, scaledClock } from '../bench/sim/clock.ts';
import { HardwareError, ProfileError } from '../errors.ts';
import { checkCatalogue, DEFAULT_PROFILES_DIR, loadCatalogue } from '../profiles/index.ts';

function fail(err: unknown): never {
  if (err instanceof RigError || err instanceof ProfileError) {
    process.stderr.write(`brana-bench: ${err.describeAll().split('\n').join('\nbrana-bench: ')}\n`);
  } else if (err instanceof HardwareError) {
    process.stderr.write(`brana-bench: ${err.message}\n`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `brana-bench: unexpected error: ${message}. Fix: report this with the command you ran\n`,
    );
  }
  process.exit(1);
}

async function runConsoleCommand(rig: RunningRig, line: string, stop: () => void): Promise<void> {
  const say = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };
  const parsed = parseConsoleCommand(line);
  if (!parsed.ok) {
    say(`error: ${parsed.error}`);
    return;
  }
  const c = parsed.command;
  try {
    switch (c.cmd) {
      case 'help':
        for (const h of CONSOLE_HELP) say(h);
        break;
      case 'stop':
        stop();
        break;
      case 'fault':
        rig.injectFault(c.bus, c.unit, c.rule);
        say(`ok: the next request to ${c.bus} unit ${c.unit} gets ${c.rule.kind}`);
        break;
      case 'set':
        await rig.wires.bus.set(c.line, c.level);
        say(`ok: ${c.line} = ${c.level}`);
        break;
      case 'tcp': {
        const server = rig.tcpServer(c.bus);
        if (c.action === 'drop') {
          say(`ok: ${c.bus} closed ${server.dropConnections()} connection(s)`);
        } else {
          await server.setMode(c.action);
          say(`ok: ${c.bus} is now ${c.action === 'serve' ? 'serving' : c.action}`);
        }
        break;
      }
      case 'values': {
        const bank = rig.banks.get(`${c.bus}/${c.unit}`);
        if (bank === undefined) {
          say(`error: no device ${c.bus}/${c.unit}; devices: ${[...rig.banks.keys()].join(', ')}`);
          break;
        }
        for (const [key, value] of Object.entries(bank.snapshot())) say(`${key} = ${value}`);
        break;
      }
    }
  } catch (err) {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `--profiles` may be given several times; each adds a directory. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const PROFILES_HELP =
  'extra device profile directory, read on top of the built-in catalogue (repeat for several)';

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new CommanderError(
        2,
        'brana-bench.badNumber',
        `${name} must be a positive number, got "${value}"`,
      );
    }
    return n;
  };
}

const program = new Command()
  .name('brana-bench')
  .description(
    'Bench rig for Brána: simulated Modbus meters on a pty and over TCP, GPIO wires and pulse trains',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('up')
  .description('start the rig described by a rig file, print its endpoints, run until Ctrl-C')
  .argument('<rig>', 'rig file, e.g. hardware/rigs/school.yaml')
  .option('--dir <dir>', 'directory for pty links and the wire socket (default .brana/bench/<rig name>)')
  .option('--speed <n>', 'run simulated time N times faster than real time', positiveNumber('--speed'), 1)
  .option('--profiles <dir>', PROFILES_HELP, collect, [])
  .option('--json', 'print the endpoints as one JSON line instead of text')
  .action(
    async (rigPath: string, opts: { dir?: string; speed: number; profiles: string[]; json?: boolean }) => {
      let running: RunningRig | undefined;
      try {
        const catalogue = loadCatalogue(DEFAULT_PROFILES_DIR, opts.profiles);
        const rig = loadRigFile(rigPath, catalogue);
        const dir = resolve(opts.dir ?? `.brana/bench/${rig.name}`);
        const clock = opts.speed === 1 ? realClock : scaledClock(opts.speed);
        running = await startRig(rig, {
          dir,
          catalogue,
          clock,
          speed: opts.speed,
          onProblem: (message) =>
            process.stderr.write(`brana-bench: ${message}. Fix: stop with Ctrl-C and start the rig again\n`),
        });
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ rig: rig.name, speed: opts.speed, ...running.endpoints })}\n`,
          );
        } else {
          process.stdout.write(`rig ${rig.name} is up${opts.speed === 1 ? '' : ` (time ×${opts.speed})`}\n`);
          for (const line of describeEndpoints(running.endpoints)) process.stdout.write(`  ${line}\n`);
          process.stdout.write(
            'press Ctrl-C to stop; type help for commands (faults, wire levels, served values)\n',
          );
        }
      } catch (err) {
        await running?.stop();
        fail(err);
      }
      const rig = running;
      await new Promise<void>((done) => {
        const commands = createInterface({ input: process.stdin, terminal: false });
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          commands.close();
          void rig.stop().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        commands.on('line', (line) => {
          void runConsoleCommand(rig, line, stop);
        });
      });
      process.stdout.write('rig stopped\n');
      process.exit(0);
    },
  );

program
  .command('profiles')
  .description('list the device profile catalogue and check every file')
  .option('--dir <dir>', 'catalogue directory', DEFAULT_PROFILES_DIR)
  .option('--profiles <dir>', PROFILES_HELP, collect, [])
  .action((opts: { dir: string; profiles: string[] }) => {
    const { profiles, errors } = checkCatalogue(opts.dir, opts.profiles);
    for (const p of [...profiles.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id),
    )) {
      const detail = p.kind === 'modbus' ? `${p.points.length} points` : p.kind;
      process.stdout.write(`${p.kind.padEnd(17)} ${p.id.padEnd(28)} ${p.vendor} ${p.model} (${detail})\n`);
    }
    for (const e of errors)
      process.stderr.write(`brana-bench: ${e.describeAll().split('\n').join('\nbrana-bench: ')}\n`);
    process.stdout.write(`${profiles.size} profiles ok, ${errors.length} with errors\n`);
    process.exit(errors.length > 0 ? 1 : 0);
  });

program
  .command('check')
  .description('validate rig files against the catalogue without starting them')
  .argument('<rigs...>', 'rig files')
  .option('--profiles <dir>', PROFILES_HELP, collect, [])
  .action((rigs: string[], opts: { profiles: string[] }) => {
    let bad = 0;
    let catalogue: ReturnType<typeof loadCatalogue>;
    try {
      catalogue = loadCatalogue(DEFAULT_PROFILES_DIR, opts.profiles);
    } catch (err) {
      fail(err);
    }
    for (const file of rigs) {
      try {
        const rig = loadRigFile(file, catalogue);
        process.stdout.write(
          `${file}: ok (${rig.buses.length} buses, ${rig.buses.reduce((n, b) => n + b.devices.length, 0)} devices)\n`,
        );
      } catch (err) {
        bad++;
        if (err instanceof RigError)
          process.stderr.write(`brana-bench: ${err.describeAll().split('\n').join('\nbrana-bench: ')}\n`);
        else fail(err);
      }
    }
    process.exit(bad > 0 ? 1 : 0);
  });

program
  .command('rig-schema')
  .description('print the JSON Schema of rig files (committed as hardware/rigs/rig.schema.json)')
  .action(() => {
    process.stdout.write(renderRigJsonSchema());
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      process.exit(0);
    if (err.code === 'brana-bench.badNumber') process.stderr.write(`brana-bench: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof BenchError) fail(err);
  fail(err);
}
