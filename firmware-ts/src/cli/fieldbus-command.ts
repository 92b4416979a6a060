// `brana-firmware fieldbus --config <file>`: validates the gateway config against the device
// catalogue (path and fix for each error, exit 2), opens the buses and pulse inputs, and sends
// readings, quarter hours and status to the agent (or stdout as JSON lines) until SIGTERM/SIGINT.
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { agentSink, jsonLinesSink } from '../fieldbus/agent-records.ts';
import { FieldbusConfigError } from '../fieldbus/errors.ts';
import { startFieldbusProcess } from '../fieldbus/process.ts';
import type { FieldbusSink } from '../fieldbus/records.ts';
import { RealClock } from '../hal/index.ts';
import { type AgentLink, connectAgent } from '../ipc/index.ts';
import { ExitError, loadCatalogueAndConfig, openGpio, profilesOption, runOrExit } from './startup.ts';

interface FieldbusOptions {
  config: string;
  agentSocket?: string;
  stateFile?: string;
  benchSocket?: string;
  queue: string;
  statusEvery: string;
  profiles: string[];
}

export function fieldbusCommand(): Command {
  return new Command('fieldbus')
    .description('poll the Modbus buses and S0 pulse inputs of the gateway config')
    .requiredOption('-c, --config <file>', 'gateway config (YAML or JSON) with buses, devices and pulses')
    .addOption(
      new Option(
        '--agent-socket <path>',
        'Unix socket of the gateway agent; without it records go to stdout as JSON lines',
      ).env('BRANA_AGENT_SOCKET'),
    )
    .option(
      '--state-file <path>',
      'counter totals, open quarter hours and pulse counts (default $STATE_DIRECTORY/fieldbus-state.json, else ./fieldbus-state.json)',
    )
    .option(
      '--bench-socket <path>',
      'bench wire bus socket for pulse inputs (overrides hardware.gpio.benchSocket)',
    )
    .option(
      '--queue <n>',
      'records held for the agent at most before new ones are dropped (counted)',
      '50000',
    )
    .option('--status-every <s>', 'seconds between poller counters sent to the agent', '60')
    .addOption(profilesOption())
    .action((opts: FieldbusOptions) => runOrExit('brana-firmware fieldbus', () => runFieldbus(opts)));
}

function positive(flag: string, value: string, example: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new ExitError(`${flag} ${value} is not a positive number. Fix: pass e.g. ${flag} ${example}`, 2);
  }
  return n;
}

async function runFieldbus(opts: FieldbusOptions): Promise<void> {
  const queueLimit = Math.floor(positive('--queue', opts.queue, '50000'));
  const statusEveryMs = positive('--status-every', opts.statusEvery, '60') * 1000;
  const { catalogue, config } = await loadCatalogueAndConfig(opts.config, opts.profiles);
  if (config.devices.length === 0 && config.pulses.length === 0) {
    throw new ExitError(
      `${opts.config}: devices: nothing to poll. Fix: add devices or pulses to the config`,
      2,
    );
  }
  const clock = new RealClock();
  let link: AgentLink | undefined;
  let sink: FieldbusSink;
  if (opts.agentSocket !== undefined) {
    link = connectAgent({
      socketPath: opts.agentSocket,
      source: 'fieldbus',
      queueLimit,
      clock,
      onError: (e) => process.stderr.write(`brana-firmware fieldbus: agent link: ${e.message}\n`),
    });
    sink = agentSink(link);
  } else {
    sink = jsonLinesSink(process.stdout);
  }
  const stateFile = opts.stateFile ?? join(process.env.STATE_DIRECTORY ?? '.', 'fieldbus-state.json');
  const gpio =
    config.pulses.length > 0 ? await openGpio(config, opts.config, opts.benchSocket, clock) : undefined;
  let running: Awaited<ReturnType<typeof startFieldbusProcess>>;
  try {
    running = await startFieldbusProcess({
      config,
      catalogue,
      clock,
      sink,
      stateFile,
      ...(gpio ? { gpio } : {}),
      warn: (m) => process.stderr.write(`brana-firmware fieldbus: ${m}\n`),
    });
  } catch (err) {
    if (err instanceof FieldbusConfigError) throw new ExitError(`${opts.config}: ${err.message}`, 2);
    throw err;
  }
  const status = clock.setInterval(() => {
    link?.send({ kind: 'status', atMs: clock.nowMs(), counters: { ...running.engine.stats } });
  }, statusEveryMs);
  process.stderr.write(
    `brana-firmware fieldbus: ${config.buses.length} bus(es), ${config.devices.length} device(s), ${config.pulses.length} pulse input(s); state in ${stateFile}\n`,
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    clock.clearInterval(status);
    await running.stop();
    await gpio?.close();
    if (link) {
      await link.drained(2000).catch(() => undefined);
      await link.close();
    }
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
