// The firmware as a config target: (re)starts the rt and fieldbus processes with the active config
// (through the supervisor in development, a restart command under systemd), and judges the trial:
// every process connects to the agent afresh, none exits, none reports a fault. A config that
// changes only Node-RED's part (flows, nodeRed) does not restart the firmware: an ambulance's
// priority request is never dropped for a flow edit.
import type { Clock, IpcServer, SequencedRecord } from '@brana/firmware';
import type { ActiveConfig, ApplyReason, ConfigTarget, TrialResult } from '../apply/index.ts';
import { type FirmwareCommand, type FirmwareName, runCommand, type Supervisor } from '../supervisor/index.ts';
import type { LogFn } from './options.ts';

/** Event types that fail a config trial when a firmware process sends them during it. */
const TRIAL_FAILING_EVENTS = new Set([
  'preemption.fault',
  'selftest.failed',
  'relay.readback-mismatch',
  'fault',
]);

/** Parts of the config the firmware does not read. */
const NOT_FIRMWARE = new Set(['flows', 'nodeRed']);

export interface FirmwareTargetOptions {
  /** The agent's own firmware supervisor (development, bench); undefined under systemd. */
  supervisor: Supervisor | undefined;
  ipc: Pick<IpcServer, 'connections'>;
  clock: Clock;
  /** Under systemd: the command that restarts the firmware units. */
  restartCommand?: FirmwareCommand;
  /** Under systemd: the sources that must connect during a trial. */
  expectSources?: FirmwareName[];
  log: LogFn;
}

export class FirmwareTarget implements ConfigTarget {
  readonly name = 'firmware';
  readonly #o: FirmwareTargetOptions;
  #restartedAtMs = 0;
  #faults: string[] | undefined;
  /** The firmware's part of the config it was last started with. */
  #started: string | undefined;

  constructor(options: FirmwareTargetOptions) {
    this.#o = options;
  }

  /** Watches what the firmware sends for events that fail a running trial. */
  observe(records: readonly SequencedRecord[]): void {
    const faults = this.#faults;
    if (!faults) return;
    for (const r of records) {
      if (r.record.kind !== 'event') continue;
      if (TRIAL_FAILING_EVENTS.has(r.record.type)) {
        faults.push(`${r.source} sent ${r.record.type} ${JSON.stringify(r.record.data).slice(0, 200)}`);
      } else if (r.record.type === 'device.status' && r.record.data.state === 'offline') {
        faults.push(`${r.source}: device ${String(r.record.data.device)} is offline`);
      }
    }
  }

  async apply(active: ActiveConfig | null, reason: ApplyReason): Promise<void> {
    const view = active ? firmwareView(active.config) : undefined;
    const { supervisor } = this.#o;
    if (reason !== 'start' && view !== undefined && view === this.#started && this.#running()) {
      // Same firmware config: keep the processes; the trial still watches them.
      this.#faults = reason === 'apply' ? [] : undefined;
      return;
    }
    this.#restartedAtMs = this.#o.clock.nowMs();
    this.#faults = reason === 'apply' ? [] : undefined;
    this.#started = view;
    if (supervisor) {
      await supervisor.restart(active?.path ?? null);
      supervisor.takeExits();
    } else if (reason === 'start') {
      // systemd started the firmware with active.json already.
    } else if (this.#o.restartCommand) {
      await runCommand(this.#o.restartCommand, 'firmware restart command');
    } else {
      this.#o.log('info', `config ${active?.path ?? '(none)'} is active; restart the firmware to use it`);
    }
  }

  async trial(trialMs: number): Promise<TrialResult> {
    const { supervisor, ipc, clock } = this.#o;
    const problems: string[] = [];
    const names = supervisor ? supervisor.names() : (this.#o.expectSources ?? []);
    if (names.length > 0) {
      const missing = () => {
        const fresh = new Set(
          ipc
            .connections()
            .filter((c) => c.connectedAtMs >= this.#restartedAtMs && c.source !== undefined)
            .map((c) => c.source),
        );
        return names.filter((n) => !fresh.has(n));
      };
      // Slow boards (and busy test machines) take a while to start Node processes: wait up to this
      // long for every firmware process to connect, then watch it for the trial period.
      const deadline = clock.monotonicMs() + Math.max(trialMs, 20_000);
      // A process that already crashed during the trial need not be waited for.
      const crashed = () => supervisor?.status().some((p) => p.state === 'backoff') ?? false;
      while (missing().length > 0 && clock.monotonicMs() < deadline && !crashed()) await this.#sleep(50);
      for (const name of missing()) problems.push(`${name} did not connect to the agent`);
    }
    if (problems.length === 0) await this.#sleep(trialMs);
    problems.push(...(this.#faults ?? []));
    this.#faults = undefined;
    if (supervisor) {
      for (const [name, exits] of Object.entries(supervisor.takeExits())) {
        if (exits > 0) problems.push(`${name} exited ${exits} time(s) during the trial`);
      }
    }
    return problems.length === 0 ? { ok: true } : { ok: false, detail: problems.join('; ') };
  }

  #running(): boolean {
    const s = this.#o.supervisor;
    return s === undefined || s.status().every((p) => p.state === 'running');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => this.#o.clock.setTimeout(r, ms));
  }
}

/** The config as the firmware sees it (without Node-RED's part), as comparable text. */
export function firmwareView(config: unknown): string {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return JSON.stringify(config);
  return JSON.stringify(Object.entries(config).filter(([k]) => !NOT_FIRMWARE.has(k)));
}
