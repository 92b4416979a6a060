// The updater: runs the pure machine (machine.ts) against the disk, the release server and the
// services. One step at a time; the state is written (atomically) after every step and before its
// commands run, so whichever process starts next (the new release's agent after a switch, the old
// one after a switch back, either after a power cut) resumes from it with a `boot` input.
//
// Two modes: the agent (mode 'agent': it runs trials, journals events, resumes at start) and
// `brana-gateway release install` (mode 'cli': fetches, verifies and switches, then leaves the
// trial to the agent of the new release; its events wait in the state file for the agent).
import { hostPlatform, type Platform } from '@brana/release';
import { UpdateFetchError, UpdateRefusedError, UpdateSetupError } from './errors.ts';
import { ReleaseFetcher } from './fetch.ts';
import { currentVersion, type ReleasePaths, readJson, releasePaths, writeAtomic } from './guard/disk.ts';
import {
  DEFAULT_POLICY,
  initialState,
  type Outcome,
  step,
  type UpdateCommand,
  type UpdateEvent,
  type UpdateInput,
  type UpdatePolicy,
  type UpdateState,
} from './machine.ts';
import { type StageProgress, stageRelease } from './stage.ts';
import {
  clearSwitch,
  commitRelease,
  type ServiceControl,
  type SwitchSettings,
  switchBack,
  switchTo,
} from './switch.ts';
import { judgeTrial, type TrialProbe, type TrialTiming } from './trial.ts';

export type UpdateLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface UpdaterOptions {
  mode: 'agent' | 'cli';
  /** Where releases are installed (/opt/brana). */
  root: string;
  /** Release public keys this gateway trusts (base64url). */
  trustedKeys: readonly string[];
  platform?: Platform;
  /** Where releases come from; without it, a desired release is refused. */
  server?: { baseUrl: string; sign?: (method: string, path: string) => Record<string, string> };
  services: ServiceControl;
  switchSettings: SwitchSettings;
  trial: TrialTiming;
  /** Agent mode: what the trial looks at. */
  probe?: TrialProbe;
  configSchemaVersion?: () => number | undefined;
  /** Agent mode: the journal; events of earlier processes (the CLI, a crashed agent) are drained into it. */
  events?: (e: UpdateEvent) => void;
  progress?: (p: StageProgress) => void;
  log?: UpdateLog;
  policy?: UpdatePolicy;
  /** How often a trial is judged (default 1 s). */
  trialPollMs?: number;
}

interface Persisted {
  machine: UpdateState;
  /** Events not yet journalled (written by a process without the journal). */
  outbox: UpdateEvent[];
}

export interface UpdaterStatus {
  root: string;
  current: string | undefined;
  phase: UpdateState['phase'];
  running: string | null;
  target: string | null;
  previous: string | null;
  queued: string | null;
  refused: UpdateState['refused'];
  last: Outcome | null;
  trial: { missing: string[]; elapsedS: number } | null;
}

export class Updater {
  readonly paths: ReleasePaths;
  readonly #o: UpdaterOptions;
  #state: UpdateState;
  #outbox: UpdateEvent[];
  #queue: Promise<void> = Promise.resolve();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #trialTimer: ReturnType<typeof setInterval> | undefined;
  #trialMissing: string[] = [];
  #trialStartedMs = 0;
  #closed = false;
  #waiters: { until: (s: UpdateState, c: UpdateCommand[]) => boolean; resolve: () => void }[] = [];

  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.paths = releasePaths(options.root);
    const saved = readJson(this.paths.state) as Partial<Persisted> | undefined;
    this.#state = saved?.machine ?? initialState(currentVersion(this.paths) ?? null);
    this.#outbox = Array.isArray(saved?.outbox) ? saved.outbox : [];
  }

  /** Agent mode: resume from the state on disk (after a switch, a switch back or a power cut). */
  start(): void {
    this.#drainOutbox();
    this.#feed({
      type: 'boot',
      current: currentVersion(this.paths),
      switchPending: readJson(this.paths.switchRecord) !== undefined,
      verdict: (readJson(this.paths.verdict) as { reason?: string } | undefined)?.reason,
      nowMs: Date.now(),
    });
  }

  /** The version the fleet (or a technician) wants; null: whatever runs is fine. */
  desired(version: string | null): void {
    this.#feed({ type: 'desired', version, nowMs: Date.now() });
  }

  status(): UpdaterStatus {
    const s = this.#state;
    return {
      root: this.paths.root,
      current: currentVersion(this.paths),
      phase: s.phase,
      running: s.running,
      target: s.target,
      previous: s.previous,
      queued: s.queued,
      refused: s.refused,
      last: s.last,
      trial: this.#trialTimer
        ? { missing: this.#trialMissing, elapsedS: Math.round((Date.now() - this.#trialStartedMs) / 1000) }
        : null,
    };
  }

  /** Resolves when a step makes `until` true (state after the step, commands it issued). */
  when(until: (s: UpdateState, commands: UpdateCommand[]) => boolean): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }

  /** Resolves once the commands queued so far have run. */
  settled(): Promise<void> {
    return this.#queue;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#trialTimer) clearInterval(this.#trialTimer);
    this.#trialTimer = undefined;
    this.#o.probe?.stop();
  }

  #feed(input: UpdateInput): void {
    if (this.#closed) return;
    const r = step(this.#state, input, this.#o.policy ?? DEFAULT_POLICY);
    this.#state = r.state;
    const events = r.commands.flatMap((c) => (c.do === 'report' ? [c.event] : []));
    this.#outbox.push(...events);
    this.#persist();
    this.#drainOutbox();
    for (const w of this.#waiters.splice(0)) {
      if (w.until(r.state, r.commands)) w.resolve();
      else this.#waiters.push(w);
    }
    for (const c of r.commands) {
      if (c.do === 'report') continue;
      this.#queue = this.#queue
        .then(() => this.#run(c))
        .catch((err: unknown) => {
          this.#o.log?.('error', `update: ${c.do} failed unexpectedly: ${(err as Error).message}`);
        });
    }
  }

  #persist(): void {
    const p: Persisted = { machine: this.#state, outbox: this.#outbox };
    writeAtomic(this.paths.state, `${JSON.stringify(p, null, 1)}\n`);
  }

  #drainOutbox(): void {
    const sink = this.#o.events;
    if (sink === undefined || this.#outbox.length === 0) return;
    for (const e of this.#outbox) {
      sink(e);
      this.#o.log?.(e.severity === 'info' ? 'info' : 'warn', `${e.type} ${JSON.stringify(e.data)}`);
    }
    this.#outbox = [];
    this.#persist();
  }

  async #run(c: UpdateCommand): Promise<void> {
    if (this.#closed) return;
    const now = () => Date.now();
    switch (c.do) {
      case 'fetch':
        await this.#fetch(c.version);
        return;
      case 'wake': {
        const t = setTimeout(
          () => {
            this.#timers.delete(t);
            this.#feed({ type: 'tick', nowMs: now() });
          },
          Math.max(0, c.atMs - now() + Math.floor(Math.random() * 500)),
        );
        this.#timers.add(t);
        return;
      }
      case 'switch': {
        this.#o.log?.(
          'info',
          `update: switching from ${c.from ?? '(none)'} to ${c.to}; restarting rt, fieldbus, then the agent`,
        );
        const problem = await switchTo(this.paths, c.from, c.to, this.#o.switchSettings, this.#o.services);
        if (problem !== undefined)
          this.#feed({ type: 'switch-failed', version: c.to, detail: problem, nowMs: now() });
        return;
      }
      case 'start-trial':
        this.#startTrial(c.version);
        return;
      case 'commit':
        this.#stopTrial();
        commitRelease(this.paths, c.version, c.previous);
        return;
      case 'clear-switch':
        clearSwitch(this.paths);
        return;
      case 'switch-back': {
        this.#stopTrial();
        this.#o.log?.('warn', `update: switching back from ${c.from} to ${c.to}: ${c.reason}`);
        const problem = await switchBack(this.paths, c.to, this.#o.services);
        if (problem !== undefined)
          this.#o.log?.('error', `update: restarting after the switch back: ${problem}`);
        return;
      }
    }
  }

  async #fetch(version: string): Promise<void> {
    const nowMs = () => Date.now();
    try {
      if (this.#o.server === undefined) {
        throw new UpdateRefusedError(
          'not-installable',
          'no release server configured (update.server, or the fleet server of an enrolled gateway)',
        );
      }
      if (this.#o.trustedKeys.length === 0) {
        throw new UpdateRefusedError(
          'not-installable',
          'no release keys configured (update.releaseKeys): nothing could be verified',
        );
      }
      const platform = this.#o.platform ?? hostPlatform();
      if (platform === undefined) {
        throw new UpdateRefusedError(
          'wrong-platform',
          `this machine (${process.platform}-${process.arch}) is no release platform`,
        );
      }
      const r = await stageRelease({
        paths: this.paths,
        version,
        platform,
        trustedKeys: this.#o.trustedKeys,
        fetcher: new ReleaseFetcher(this.#o.server),
        ...(this.#o.configSchemaVersion?.() !== undefined
          ? { configSchemaVersion: this.#o.configSchemaVersion()! }
          : {}),
        ...(this.#o.progress ? { progress: this.#o.progress } : {}),
      });
      this.#o.log?.(
        'info',
        `update: ${version} staged: ${r.fetchedFiles} file(s) fetched (${(r.fetchedBytes / 1024 / 1024).toFixed(1)} MB), ${r.reusedFiles} already here`,
      );
      this.#outbox.push({
        type: 'release.staged',
        severity: 'info',
        data: {
          version,
          fetchedFiles: r.fetchedFiles,
          fetchedBytes: r.fetchedBytes,
          reusedFiles: r.reusedFiles,
        },
      });
      this.#feed({ type: 'fetched', version, nowMs: nowMs() });
    } catch (err) {
      if (err instanceof UpdateRefusedError) {
        this.#feed({ type: 'refused', version, reason: err.reason, detail: err.message, nowMs: nowMs() });
      } else if (err instanceof UpdateFetchError) {
        this.#feed({
          type: 'fetch-failed',
          version,
          reason: err.reason,
          detail: err.message,
          nowMs: nowMs(),
        });
      } else {
        // Anything else (a file system error) is a failure another attempt may or may not fix.
        const e = err as NodeJS.ErrnoException;
        this.#feed({
          type: 'fetch-failed',
          version,
          reason: 'server-error',
          detail: `${e.code ?? ''} ${e.message}`.trim(),
          nowMs: nowMs(),
        });
      }
    }
  }

  #startTrial(version: string): void {
    const probe = this.#o.probe;
    if (probe === undefined) {
      // Only the agent judges a trial; a CLI that finds one pending leaves it to the agent.
      return;
    }
    this.#trialStartedMs = Date.now();
    probe.start(this.#trialStartedMs);
    this.#o.log?.(
      'info',
      `update: trial of ${version} for up to ${Math.round(this.#o.trial.windowMs / 1000)} s`,
    );
    this.#trialTimer = setInterval(() => {
      const v = judgeTrial(probe.snapshot(Date.now()), this.#o.trial);
      if (v.verdict === 'wait') {
        this.#trialMissing = v.missing;
        return;
      }
      this.#stopTrial();
      if (v.verdict === 'pass') this.#feed({ type: 'trial-passed', version, nowMs: Date.now() });
      else
        this.#feed({
          type: 'trial-failed',
          version,
          failedChecks: v.failed,
          detail: v.detail,
          nowMs: Date.now(),
        });
    }, this.#o.trialPollMs ?? 1000);
  }

  #stopTrial(): void {
    if (this.#trialTimer) clearInterval(this.#trialTimer);
    this.#trialTimer = undefined;
    this.#o.probe?.stop();
  }
}

/** The checks an update configuration must pass before any switch can work. */
export function checkServiceControl(services: ServiceControl, agentUnit: string): void {
  if (services.restart.length === 0) {
    throw new UpdateSetupError(
      'update.restart is empty: after a switch nothing would restart the services on the new release',
      'list the restart commands in order: rt, fieldbus, then the agent (see gateway/systemd/agent.example.yaml)',
    );
  }
  const last = services.restart.at(-1)!;
  if (!last.args.some((a) => a === agentUnit || a.startsWith(agentUnit.replace(/\.service$/, '')))) {
    throw new UpdateSetupError(
      `the last update.restart command (${last.command} ${last.args.join(' ')}) does not restart ${agentUnit}`,
      `end the list with the agent's own restart (systemctl restart --no-block ${agentUnit})`,
    );
  }
}
