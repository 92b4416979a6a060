// `brana-firmware fieldbus --config <file>`: validates the gateway config against the device
// catalogue (path and fix for each error, exit 2), opens the buses and pulse inputs, and sends
// readings, quarter hours and status to the agent (or stdout as JSON lines) until SIGTERM/SIGINT.
import { join } from 'node:path';
import { type Catalogue, connectWires, loadCatalogue } from '@brana/hardware';
import { Command } from 'commander';
import { type GatewayConfig, loadGatewayConfigFile } from '../config/index.ts';
import { agentSink, jsonLinesSink } from '../fieldbus/agent-records.ts';
import { FieldbusConfigError } from '../fieldbus/errors.ts';
import { startFieldbusProcess } from '../fieldbus/process.ts';
import type { FieldbusSink } from '../fieldbus/records.ts';
import { type GpioBackend, openSysfsGpio, RealClock, WireGpio } from '../hal/index.ts';
import { type AgentLink, connectAgent } from '../ipc/index.ts';

interface FieldbusOptions {
  config: string;
  agentSocket?: string;
  stateFile?: string;
  benchSocket?: string;
  queue: string;
  statusEvery: string;
}

class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function fieldbusCommand(): Command {
  return new Command('fieldbus')
    .description('poll the Modbus buses and S0 pulse inputs of the gateway config')
    .requiredOption('-c, --config <file>', 'gateway config (YAML or JSON) with buses, devices and pulses')
    .option(
      '--agent-socket <path>',
      'Unix socket of the gateway agent; without it records go to stdout as JSON lines',
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
    .action(async (opts: FieldbusOptions) => {
      try {
        await runFieldbus(opts);
      } catch (err) {
        const code = err instanceof ExitError ? err.exitCode : 1;
        process.stderr.write(`brana-firmware fieldbus: ${(err as Error).message}\n`);
        process.exit(code);
      }
    });
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
  let catalogue: Catalogue;
  try {
    catalogue = loadCatalogue();
  } catch (err) {
    throw new ExitError(`device catalogue is invalid: ${(err as Error).message}`, 1);
  }
  const result = await loadGatewayConfigFile(opts.config, { knownProfiles: new Set(catalogue.keys()) });
  if (!result.ok) {
    const lines = result.errors.map(
      (e) => `${opts.config}: ${e.path || '(document)'}: ${e.message}. Fix: ${e.fix}`,
    );
    throw new ExitError(
      `config rejected (${result.errors.length} error${result.errors.length > 1 ? 's' : ''})\n${lines.join('\n')}`,
      2,
    );
  }
  const config = result.config;
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
  const gpio = config.pulses.length > 0 ? await openGpio(config, opts, clock) : undefined;
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

async function openGpio(
  config: GatewayConfig,
  opts: FieldbusOptions,
  clock: RealClock,
): Promise<GpioBackend> {
  const g = config.hardware.gpio;
  if (g.backend === 'bench') {
    const socket = opts.benchSocket ?? g.benchSocket;
    if (socket === undefined) {
      throw new ExitError(
        `${opts.config}: hardware.gpio.benchSocket: missing for the bench backend. Fix: set it to the wire socket brana-bench printed, or pass --bench-socket`,
        2,
      );
    }
    try {
      return new WireGpio(await connectWires(socket), { clock, kind: 'bench', ownsBus: true });
    } catch (err) {
      throw new ExitError((err as Error).message, 1);
    }
  }
  if (g.backend === 'sysfs') return openSysfsGpio({ clock });
  throw new ExitError(
    `${opts.config}: hardware.gpio.backend: "memory" exists only inside tests. Fix: use "bench" (with the bench rig) or "sysfs" (on a Pi)`,
    2,
  );
}
