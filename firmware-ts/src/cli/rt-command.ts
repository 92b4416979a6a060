// `brana-firmware rt --config <file>`: validates the gateway config (path and fix for each error),
// opens the GPIO backend, the radio and UDP inputs and the event sink, and runs the rt loop (the
// config's preemption section) and the alarm unit (its alarms and relays) until SIGTERM/SIGINT,
// when it switches every output off.
import { Command, Option } from 'commander';
import { AlarmUnit, compileAlarmRules, RelayCommands } from '../alarms/index.ts';
import { NodeSerialPort, RealClock, type SerialPort } from '../hal/index.ts';
import { connectAgent } from '../ipc/index.ts';
import { agentEventSink, type EventSink, RingEventSink } from '../rt/event-sink.ts';
import { RtLoop } from '../rt/rt-loop.ts';
import { HardwareWatchdog, systemdNotifier, watchdogIntervalMs } from '../rt/watchdog.ts';
import { ExitError, loadCatalogueAndConfig, openGpio, profilesOption, runOrExit } from './startup.ts';

interface RtOptions {
  config: string;
  agentSocket?: string;
  benchSocket?: string;
  hwWatchdog: boolean;
  eventQueue: string;
  profiles: string[];
}

export function rtCommand(): Command {
  return new Command('rt')
    .description(
      'run the real-time loop: emergency-vehicle preemption, heartbeat, watchdog, alarm inputs and relays',
    )
    .requiredOption(
      '-c, --config <file>',
      'gateway config (YAML or JSON) with a preemption section, alarms or relays',
    )
    .addOption(
      new Option(
        '--agent-socket <path>',
        'Unix socket of the gateway agent; without it events go to stdout as JSON lines',
      ).env('BRANA_AGENT_SOCKET'),
    )
    .option('--bench-socket <path>', 'bench wire bus socket (overrides hardware.gpio.benchSocket)')
    .option('--no-hw-watchdog', 'do not open /dev/watchdog even where present')
    .option('--event-queue <n>', 'events held at most before new ones are dropped (counted)', '10000')
    .addOption(profilesOption())
    .action((opts: RtOptions) => runOrExit('brana-firmware rt', () => runRt(opts)));
}

async function runRt(opts: RtOptions): Promise<void> {
  const { catalogue, config } = await loadCatalogueAndConfig(opts.config, opts.profiles);
  const p = config.preemption;
  const hasAlarms = config.alarms.length > 0 || config.relays.length > 0;
  if (p === undefined && !hasAlarms) {
    throw new ExitError(
      `${opts.config}: nothing for rt to run (no preemption, alarms or relays). Fix: add a preemption section or alarms/relays, or do not run rt on this gateway`,
      2,
    );
  }
  const queueLimit = Number(opts.eventQueue);
  if (!Number.isInteger(queueLimit) || queueLimit < 1) {
    throw new ExitError(
      `--event-queue ${opts.eventQueue} is not a positive integer. Fix: pass e.g. --event-queue 10000`,
      2,
    );
  }
  const clock = new RealClock();
  const gpio = await openGpio(config, opts.config, opts.benchSocket, clock);
  // Relay rules that compare channels get their readings from the agent, which forwards what the
  // fieldbus process journals. Values that arrive before the alarm unit opened are dropped: the
  // next poll brings them again.
  const channels = hasAlarms ? compileAlarmRules(config).channels : [];
  let alarms: AlarmUnit | undefined;
  // Flows' relay commands from the agent: checked here against the config's owners, whatever
  // they say (a preemption output or a relay owned by rules never moves).
  const relayCommands = new RelayCommands({
    relays: config.relays,
    alarms: config.alarms,
    ...(p === undefined ? {} : { preemption: p }),
    target: () => alarms,
    clock,
  });
  const commandCounters = (): Record<string, number> => {
    const s = relayCommands.stats();
    const out: Record<string, number> = { 'commands.accepted': s.accepted, 'commands.switched': s.switched };
    for (const [code, n] of Object.entries(s.refused)) out[`commands.refused.${code}`] = n;
    return out;
  };
  const events: EventSink =
    opts.agentSocket !== undefined
      ? agentEventSink(
          connectAgent({
            socketPath: opts.agentSocket,
            source: 'rt',
            queueLimit,
            clock,
            onCommand: (body, connection) => relayCommands.handle(body, connection),
            ...(channels.length > 0
              ? {
                  subscribe: channels,
                  onValues: (values) => {
                    for (const [channel, value] of values) alarms?.value(channel, value);
                  },
                }
              : {}),
          }),
        )
      : new RingEventSink(queueLimit, process.stdout);
  const radio: SerialPort | undefined =
    p?.inputs.radio === undefined
      ? undefined
      : new NodeSerialPort({ path: p.inputs.radio.path, baudRate: p.inputs.radio.baud });
  const notifier = systemdNotifier(process.env, (e) =>
    process.stderr.write(`brana-firmware rt: ${e.message}\n`),
  );
  const notifyWatchdogMs = watchdogIntervalMs();
  let hardwareWatchdog: HardwareWatchdog | undefined;
  if (opts.hwWatchdog) {
    try {
      hardwareWatchdog = HardwareWatchdog.openIfPresent();
    } catch (err) {
      throw new ExitError(
        `cannot open /dev/watchdog (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: run as a user allowed to open it, or pass --no-hw-watchdog`,
        1,
      );
    }
  }
  const loop =
    p === undefined
      ? undefined
      : await RtLoop.start({
          config: p,
          gpio,
          clock,
          events,
          ...(radio === undefined ? {} : { radio }),
          catalogue,
          statusCounters: commandCounters,
          ...(notifier === undefined ? {} : { notifier }),
          ...(notifyWatchdogMs === undefined ? {} : { notifyWatchdogMs }),
          ...(hardwareWatchdog === undefined ? {} : { hardwareWatchdog }),
        });
  if (p !== undefined && loop !== undefined) {
    process.stderr.write(
      `brana-firmware rt: intersection ${p.intersectionId}, ${p.approaches.length} approaches, heartbeat every ${p.heartbeat.periodMs} ms` +
        `${loop.udpPort === undefined ? '' : `, UDP port ${loop.udpPort}`}; self-test in ${p.timing.selfTestMs} ms\n`,
    );
  }
  if (hasAlarms) {
    alarms = await AlarmUnit.start({ config, gpio, clock, emit: (e) => events.emit(e) });
    process.stderr.write(
      `brana-firmware rt: ${config.alarms.length} alarm input(s), ${config.relays.length} relay(s)` +
        `${channels.length > 0 ? `; rules compare ${channels.join(', ')}${opts.agentSocket === undefined ? ' (no agent socket: no readings arrive, those rules stay off)' : ''}` : ''}\n`,
    );
  }
  // Without the preemption loop nobody else tells systemd and /dev/watchdog that rt is alive.
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  if (loop === undefined) {
    notifier?.notify('READY=1\nSTATUS=running (alarms)');
    hardwareWatchdog?.kick();
    let lastStatusMs = clock.monotonicMs();
    keepAlive = setInterval(
      () => {
        notifier?.notify('WATCHDOG=1');
        hardwareWatchdog?.kick();
        const now = clock.monotonicMs();
        if (now - lastStatusMs >= 5000) {
          lastStatusMs = now;
          events.emit({ kind: 'status', atMs: clock.nowMs(), counters: commandCounters() });
        }
      },
      Math.min(notifyWatchdogMs ?? 1000, 1000),
    );
  }
  // Anything unexpected ends the process with one line; the dead-man then opens the contacts and
  // systemd restarts the loop.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`brana-firmware rt: stopped on an unexpected error: ${err.message}\n`);
    process.exit(1);
  });
  const shutdown = async () => {
    if (keepAlive !== undefined) clearInterval(keepAlive);
    await alarms?.stop();
    await loop?.stop();
    if (loop === undefined) {
      notifier?.notify('STOPPING=1');
      notifier?.close();
      hardwareWatchdog?.close();
    }
    await events.close();
    await gpio.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
