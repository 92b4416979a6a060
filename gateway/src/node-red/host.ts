// The agent's Node-RED host: runs Node-RED as its own process (the agent's child, or a systemd unit
// on a Pi) with settings made from the config, applies the config's flows through the admin API
// as a config target (deploy, trial, rollback), turns Node-RED's log lines into rate-limited journal
// events, and sees deploys made in the editor (drift), keeping them for the fleet to adopt or revert.
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Clock,
  type FlowNode,
  type NodeRedConfig,
  nodeRedSchema,
  type TimerHandle,
  validateFlows,
} from '@brana/firmware';
import type { ActiveConfig, ApplyReason, ConfigTarget, TrialResult } from '../apply/index.ts';
import { ConfigTargetError, NodeRedError } from '../errors.ts';
import { readJsonFile, writeFileAtomic } from '../state/index.ts';
import {
  type BackoffPolicy,
  type ChildCommand,
  type ChildExit,
  runCommand,
  SupervisedChild,
} from '../supervisor/index.ts';
import { NodeRedAdmin } from './admin-client.ts';
import {
  type CredentialsKey,
  type FlowCredentials,
  loadCredentialsKey,
  openCredentials,
} from './credentials.ts';
import { describeDiff, diffFlows, type FlowDiff, isEmptyDiff } from './drift.ts';
import { type LinkMessage, listenNodeRedLink, type NodeRedLink } from './link.ts';
import { admitLog, initialLogLimit, type LogLimitState, takeSummary } from './log-limit.ts';
import { installModules } from './modules.ts';
import { type NodeRedPaths, nodeRedPaths } from './paths.ts';
import { ensureSecrets, type NodeRedSecrets } from './secrets.ts';
import { BRANA_MODULE, type LaunchPlan, launchPlan } from './settings.ts';
import { type TrialSighting, trialVerdict } from './trial.ts';

export const LAUNCHER = join(import.meta.dirname, 'runtime', 'launch.cjs');

export type NodeRedState = 'disabled' | 'starting' | 'running' | 'backoff' | 'stopped';

/** A journal event the host raises (the agent numbers and commits it). */
export interface NodeRedEvent {
  type: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
}

/** How Node-RED is run: the agent's child (development, bench) or a systemd unit (a Pi). */
export type NodeRedProcessMode =
  | { supervise: true; output?: (line: string) => void }
  | { supervise: false; restartCommand?: ChildCommand; stopCommand?: ChildCommand };

export interface NodeRedHostOptions {
  dataDir: string;
  clock: Clock;
  emit: (event: NodeRedEvent) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  process?: NodeRedProcessMode;
  /** More environment for Node-RED, asked at every start (the local API's socket and token file). */
  env?: () => Record<string, string>;
  npmCommand?: string;
  /** How long Node-RED may take to start and answer (default 60 s; a Pi 3 needs ~20 s). */
  readyTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** How often the running flows are compared with the signed ones besides deploy notices (60 s). */
  driftCheckMs?: number;
}

interface SavedState {
  /** Revision Node-RED gave the signed flows when the agent deployed them. */
  rev: string;
  /** The config they came from. */
  ref: { version: number; hash: string };
}

export interface DriftRecord {
  detectedAtMs: number;
  revision: string;
  signedRevision: string;
  config: { version: number; hash: string };
  diff: FlowDiff;
  /** The flows as deployed in the editor, without credentials (Node-RED never gives them out). */
  flows: FlowNode[];
}

interface Signed {
  flows: FlowNode[];
  credentials: FlowCredentials | undefined;
  ref: { version: number; hash: string };
  trialMs: number | undefined;
}

export interface NodeRedStatus {
  state: NodeRedState;
  pid: number | undefined;
  restarts: number;
  version: string | undefined;
  heapLimitMb: number | undefined;
  editorUrl: string | undefined;
  flows: { state: string; rev: string | undefined; nodes: number | undefined } | undefined;
  signedRevision: string | undefined;
  drift: { revision: string; detectedAtMs: number; summary: string } | undefined;
  link: { connected: boolean; badLines: number };
  log: { droppedLines: number };
}

export class NodeRedHost implements ConfigTarget {
  readonly name = 'node-red';
  readonly paths: NodeRedPaths;
  readonly #o: NodeRedHostOptions;
  readonly #mode: NodeRedProcessMode;
  #link: NodeRedLink | undefined;
  #child: SupervisedChild | undefined;
  #secrets: NodeRedSecrets | undefined;
  #credentialsKey: CredentialsKey | undefined;
  #plan: LaunchPlan | undefined;
  #enabled = false;
  #hello: Extract<LinkMessage, { t: 'hello' }> | undefined;
  #listening: Extract<LinkMessage, { t: 'listening' }> | undefined;
  #flows: Extract<LinkMessage, { t: 'flows' }> | undefined;
  #signed: Signed | undefined;
  #state: SavedState | undefined;
  #drift: DriftRecord | undefined;
  #deploying = false;
  #sightings: TrialSighting[] | undefined;
  #deployedRev: string | undefined;
  #limiter: LogLimitState;
  #droppedLines = 0;
  #lastError: string | undefined;
  #waiters = new Set<() => void>();
  #timers: TimerHandle[] = [];
  #driftCheck: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: NodeRedHostOptions) {
    this.#o = options;
    this.#mode = options.process ?? { supervise: true };
    this.paths = nodeRedPaths(options.dataDir);
    this.#limiter = initialLogLimit(options.clock.monotonicMs());
    this.#state = readJsonFile<SavedState>(this.paths.stateFile, 'Node-RED state');
    // What a Node-RED run by systemd was started with (it may outlive the agent).
    if (!this.#mode.supervise) this.#plan = planOnDisk(this.paths);
    this.#drift = readJsonFile<DriftRecord>(this.paths.driftFile, 'drifted flows');
  }

  /** Listens for the launcher; Node-RED itself starts with the first config that enables it. */
  async start(): Promise<void> {
    // <dataDir>/node-red: traversable by the agent's group (the Node-RED user on a Pi), files 0600.
    mkdirSync(this.paths.hostDir, { recursive: true, mode: 0o710 });
    chmodSync(this.paths.hostDir, 0o710);
    this.#link = await listenNodeRedLink({
      socketPath: this.paths.linkSocket,
      onMessage: (m) => this.#onMessage(m),
      onDisconnect: () => this.#notify(),
    });
    const every = this.#o.driftCheckMs ?? 60_000;
    const tick = () => {
      if (this.#closed) return;
      this.#scheduleDriftCheck();
      const summary = takeSummary(this.#limiter, this.#o.clock.monotonicMs());
      this.#limiter = summary.state;
      if (summary.summary) this.#emitDropped(summary.summary);
      this.#timers.push(this.#o.clock.setTimeout(tick, Math.min(every, 60_000)));
    };
    this.#timers.push(this.#o.clock.setTimeout(tick, Math.min(every, 60_000)));
  }

  /** The public key (raw X25519, base64url) the fleet seals this gateway's flow credentials to. */
  credentialsPublicKey(): { publicKey: string; keyId: string } {
    const k = this.#key();
    return { publicKey: k.publicKey, keyId: k.keyId };
  }

  // ---------------------------------------------------------------- ConfigTarget

  async apply(active: ActiveConfig | null, reason: ApplyReason): Promise<void> {
    const nodeRed = active ? nodeRedOf(active.config) : undefined;
    if (!active || !nodeRed?.enabled) {
      this.#enabled = false;
      this.#signed = undefined;
      this.#sightings = undefined;
      await this.#stopRuntime();
      return;
    }
    this.#enabled = true;
    const flows = flowsOf(active.config);
    const gatewayName = (active.config as { name?: unknown }).name;
    const plan = launchPlan(nodeRed, this.paths, typeof gatewayName === 'string' ? gatewayName : 'gateway');
    const issues = (path: string, message: string, fix: string) =>
      new ConfigTargetError('node-red', [{ path, message, fix }]);

    if (!this.#mode.supervise && !this.#listening) {
      // A Node-RED run by systemd reconnects within a second of the agent's start: no restart for that.
      await this.#waitFor(() => this.#listening !== undefined, 5000).catch(() => {});
    }
    const installed = await this.#installModules(nodeRed).catch((err: Error) => {
      throw issues('nodeRed.modules', err.message, 'put the modules in the gateway cache');
    });
    if (installed || !samePlan(plan, this.#plan) || !this.#alive()) await this.#launch(plan);
    await this.#ready();

    const admin = this.#admin();
    const registry = await admin.nodeSets();
    const moduleTypes = new Map<string, string[]>();
    for (const set of registry) {
      if (set.enabled && !set.err)
        moduleTypes.set(set.module, [...(moduleTypes.get(set.module) ?? []), ...set.types]);
    }
    const problems = moduleTypeProblems(nodeRed, moduleTypes);
    const checked = validateFlows(flows, nodeRed.modules, { moduleTypes });
    if (!checked.ok) problems.push(...checked.errors);
    if (!moduleTypes.has(BRANA_MODULE) && flows.some((n) => n.type.startsWith('brana'))) {
      problems.push({
        path: 'flows',
        message: `${BRANA_MODULE} is not loaded by this gateway's Node-RED`,
        fix: 'install the Brána nodes with the agent (see gateway/README.md)',
      });
    }
    if (problems.length > 0) throw new ConfigTargetError('node-red', problems);
    let credentials: FlowCredentials | undefined;
    if (nodeRed.credentials) {
      try {
        credentials = openCredentials(nodeRed.credentials, this.#key());
      } catch (err) {
        throw issues(
          'nodeRed.credentials',
          (err as Error).message,
          'seal the credentials for this gateway again',
        );
      }
      const ids = new Set(flows.map((n) => n.id));
      const unknown = Object.keys(credentials).filter((id) => !ids.has(id));
      if (unknown.length > 0) {
        throw issues(
          'nodeRed.credentials',
          `credentials for ${unknown.length} node(s) not in the flows (${unknown.slice(0, 5).join(', ')})`,
          'seal credentials only for nodes of these flows',
        );
      }
    }
    const previous = this.#signed;
    this.#signed = {
      flows,
      credentials,
      ref: active.ref,
      trialMs: nodeRed.trialS === undefined ? undefined : nodeRed.trialS * 1000,
    };

    const running = await admin.flows();
    const sameConfig =
      this.#state?.ref.version === active.ref.version && this.#state.ref.hash === active.ref.hash;
    if (reason === 'start' && sameConfig) {
      // The agent restarted: Node-RED runs these flows already, or flows edited since (drift).
      this.#deployedRev = this.#state?.rev;
      if (running.rev !== this.#state?.rev) this.#scheduleDriftCheck();
      return;
    }
    const unchanged =
      reason !== 'start' &&
      previous !== undefined &&
      running.rev === this.#deployedRev &&
      sameJson(previous.flows, flows) &&
      sameJson(previous.credentials ?? null, credentials ?? null);
    if (unchanged) {
      // Same flows (a change elsewhere in the config): they keep running; the trial still watches them.
      this.#state = { rev: running.rev, ref: active.ref };
      writeFileAtomic(this.paths.stateFile, JSON.stringify(this.#state));
      this.#sightings =
        reason === 'apply'
          ? [{ kind: 'started', rev: running.rev, notStarted: this.#flows?.notStarted ?? [] }]
          : undefined;
      return;
    }
    await this.#deploy(flows, credentials, active.ref, reason === 'apply');
  }

  async trial(trialMs: number): Promise<TrialResult> {
    const signed = this.#signed;
    if (!this.#enabled || !signed) {
      this.#sightings = undefined;
      return { ok: true };
    }
    const ms = signed.trialMs ?? trialMs;
    await this.#sleep(ms);
    // Deploys are quick, starting nodes can be slow: give the flows up to the ready time to start.
    await this.#waitFor(
      () =>
        this.#sightingsStarted() ||
        (this.#sightings ?? []).some((s) => s.kind === 'exit' || s.kind === 'blocked'),
      this.#o.readyTimeoutMs ?? 60_000,
    ).catch(() => {});
    const sightings = this.#sightings ?? [];
    this.#sightings = undefined;
    const verdict = trialVerdict(sightings, this.#deployedRev ?? '', signed.flows);
    if (verdict.ok) return { ok: true };
    return {
      ok: false,
      detail: verdict.issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      errors: verdict.issues,
    };
  }

  // ---------------------------------------------------------------- drift, revert, status

  /** The flows deployed in the editor since the signed ones, kept for the fleet (no credentials). */
  drift(): DriftRecord | undefined {
    return this.#drift;
  }

  /** Deploys the signed flows again over whatever the editor deployed. */
  async revert(): Promise<void> {
    const signed = this.#signed;
    if (!signed) {
      throw new NodeRedError(
        'there are no signed flows to go back to',
        'apply a config with nodeRed enabled first',
        {
          code: 'NODE_RED_NOTHING_SIGNED',
          retryable: false,
        },
      );
    }
    const from = this.#drift?.revision;
    await this.#deploy(signed.flows, signed.credentials, signed.ref, false);
    this.#o.emit({
      type: 'flows.reverted',
      severity: 'info',
      data: { revision: this.#deployedRev, from: from ?? null, config: signed.ref },
    });
  }

  status(): NodeRedStatus {
    const child = this.#child?.status();
    return {
      state: this.#runtimeState(),
      pid: this.#hello?.pid ?? child?.pid,
      restarts: child?.restarts ?? 0,
      version: this.#hello?.nodeRedVersion,
      heapLimitMb: this.#hello?.heapLimitMb,
      editorUrl: this.#listening ? this.#baseUrl() : undefined,
      flows: this.#flows
        ? { state: this.#flows.state, rev: this.#flows.rev, nodes: this.#flows.nodes }
        : undefined,
      signedRevision: this.#deployedRev,
      drift: this.#drift
        ? {
            revision: this.#drift.revision,
            detectedAtMs: this.#drift.detectedAtMs,
            summary: describeDiff(this.#drift.diff),
          }
        : undefined,
      link: { connected: this.#link?.connected() ?? false, badLines: this.#link?.badLines() ?? 0 },
      log: { droppedLines: this.#droppedLines },
    };
  }

  /** For a software release's trial: whether flows should run, and whether the deployed ones do. */
  flowsRunning(): { expected: boolean; running: boolean; detail?: string } {
    if (!this.#enabled || !this.#signed) return { expected: false, running: false };
    const f = this.#flows;
    if (this.#runtimeState() !== 'running' || !f) {
      return { expected: true, running: false, detail: `Node-RED is ${this.#runtimeState()}` };
    }
    if (f.state !== 'started')
      return { expected: true, running: false, detail: `flows ${f.state}${f.error ? ` (${f.error})` : ''}` };
    const missing = f.notStarted ?? [];
    if (missing.length > 0) {
      return {
        expected: true,
        running: false,
        detail: `${missing.length} node(s) did not start (${missing[0]!.name ?? missing[0]!.id})`,
      };
    }
    return { expected: true, running: true };
  }

  /** The admin API client (the agent's token), once Node-RED listens. */
  admin(): NodeRedAdmin | undefined {
    return this.#listening ? this.#admin() : undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.splice(0)) this.#o.clock.clearTimeout(t);
    // A systemd-run Node-RED keeps running its flows while the agent is away.
    if (this.#mode.supervise) await this.#child?.stop();
    await this.#driftCheck.catch(() => {});
    const s = takeSummary(this.#limiter, this.#o.clock.monotonicMs(), true);
    if (s.summary) this.#emitDropped(s.summary);
    await this.#link?.close();
    for (const w of this.#waiters) w();
  }

  // ---------------------------------------------------------------- running Node-RED

  async #launch(plan: LaunchPlan): Promise<void> {
    this.#secrets = ensureSecrets(this.paths);
    mkdirSync(this.paths.userDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.paths.settingsFile, `${JSON.stringify(plan.settings, null, 2)}\n`);
    // For the systemd unit (EnvironmentFile=): the heap cap it starts Node-RED with.
    writeFileAtomic(join(this.paths.hostDir, 'launch.env'), `NODE_OPTIONS=${plan.nodeArgs.join(' ')}\n`);
    this.#plan = plan;
    this.#hello = undefined;
    this.#listening = undefined;
    this.#flows = undefined;
    if (this.#mode.supervise) {
      const output = this.#mode.output;
      this.#child ??= new SupervisedChild({
        label: 'Node-RED',
        clock: this.#o.clock,
        // Below the fieldbus poller (nice 0) when the CPU is contended; first to go when memory is.
        niceness: 10,
        oomScoreAdj: 500,
        stopGraceMs: 10_000,
        ...(this.#o.backoff ? { backoff: this.#o.backoff } : {}),
        ...(output ? { output } : {}),
        ...(this.#o.log ? { log: this.#o.log } : {}),
        startFix: 'check that node and node-red are installed',
        onExit: (e) => this.#onExit(e),
      });
      await this.#child.start(() => ({
        command: process.execPath,
        args: [...(this.#plan?.nodeArgs ?? []), LAUNCHER],
        env: this.#env(),
      }));
    } else if (this.#mode.restartCommand) {
      await runCommand(this.#mode.restartCommand, 'Node-RED restart command');
    }
  }

  #env(): Record<string, string> {
    return {
      ...this.#o.env?.(),
      BRANA_NODE_RED_HOST_DIR: this.paths.hostDir,
      BRANA_NODE_RED_PARENT_PID: String(process.pid),
      NODE_ENV: 'production',
    };
  }

  async #stopRuntime(): Promise<void> {
    if (this.#mode.supervise) await this.#child?.stop();
    else if (this.#mode.stopCommand && this.#link?.connected())
      await runCommand(this.#mode.stopCommand, 'Node-RED stop command');
    this.#plan = undefined;
    this.#hello = undefined;
    this.#listening = undefined;
    this.#flows = undefined;
  }

  #alive(): boolean {
    if (this.#mode.supervise) return this.#child?.status().state === 'running';
    return this.#link?.connected() ?? false;
  }

  #runtimeState(): NodeRedState {
    if (!this.#enabled) return 'disabled';
    if (this.#mode.supervise) {
      const s = this.#child?.status().state;
      if (s === 'backoff') return 'backoff';
      if (s !== 'running') return 'stopped';
    } else if (!this.#link?.connected()) return 'stopped';
    return this.#listening ? 'running' : 'starting';
  }

  async #installModules(nodeRed: NodeRedConfig): Promise<boolean> {
    const installed = await installModules(nodeRed.modules, {
      userDir: this.paths.userDir,
      cacheDir: this.paths.moduleCacheDir,
      ...(this.#o.npmCommand ? { npmCommand: this.#o.npmCommand } : {}),
    });
    for (const m of installed) {
      this.#o.emit({
        type: 'node-red.module.installed',
        severity: 'info',
        data: { name: m.name, version: m.version },
      });
    }
    return installed.length > 0;
  }

  async #ready(): Promise<void> {
    const timeoutMs = this.#o.readyTimeoutMs ?? 60_000;
    try {
      await this.#waitFor(() => this.#listening !== undefined && this.#alive(), timeoutMs);
    } catch {
      throw new ConfigTargetError('node-red', [
        {
          path: 'nodeRed',
          message: `Node-RED did not start within ${Math.round(timeoutMs / 1000)} s${this.#lastError ? ` (last error: ${this.#lastError})` : ''}`,
          fix: 'see the node-red.log events; check nodeRed.editor (a port in use?) and nodeRed.maxOldSpaceMb',
        },
      ]);
    }
  }

  #admin(): NodeRedAdmin {
    this.#secrets ??= ensureSecrets(this.paths);
    return new NodeRedAdmin(this.#baseUrl(), this.#secrets.agentToken);
  }

  #baseUrl(): string {
    const l = this.#listening;
    if (!l) return '';
    const host = l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${l.port}`;
  }

  #key(): CredentialsKey {
    this.#credentialsKey ??= loadCredentialsKey(this.paths.credentialsKeyFile);
    return this.#credentialsKey;
  }

  async #deploy(
    flows: FlowNode[],
    credentials: FlowCredentials | undefined,
    ref: { version: number; hash: string },
    watch: boolean,
  ): Promise<void> {
    this.#deploying = true;
    this.#sightings = watch ? [] : undefined;
    let rev: string;
    try {
      rev = await this.#admin().deploy(flows, credentials);
    } catch (err) {
      this.#sightings = undefined;
      throw new ConfigTargetError('node-red', [
        {
          path: 'flows',
          message: `the deploy failed: ${(err as Error).message}`,
          fix: 'see the node-red.log events',
        },
      ]);
    } finally {
      this.#deploying = false;
    }
    this.#deployedRev = rev;
    this.#state = { rev, ref };
    writeFileAtomic(this.paths.stateFile, JSON.stringify(this.#state));
    if (this.#drift) {
      this.#drift = undefined;
      rmSync(this.paths.driftFile, { force: true });
    }
    // The deploy answers before the nodes start: wait for them (a trial judges what went wrong).
    await this.#waitFor(
      () =>
        this.#flows !== undefined &&
        this.#flows.state !== 'stopped' &&
        (this.#flows.state === 'blocked' || this.#flows.rev === rev),
      this.#o.readyTimeoutMs ?? 60_000,
    ).catch(() => {});
  }

  /** Trial sightings are kept only while an apply is being watched, and bounded. */
  #sight(s: TrialSighting): void {
    if (this.#sightings && this.#sightings.length < 2000) this.#sightings.push(s);
  }

  #sightingsStarted(): boolean {
    return (this.#sightings ?? []).some((s) => s.kind === 'started' && s.rev === this.#deployedRev);
  }

  // ---------------------------------------------------------------- what the launcher reports

  #onMessage(m: LinkMessage): void {
    switch (m.t) {
      case 'hello': {
        const previous = this.#hello;
        this.#hello = m;
        if (previous?.pid !== m.pid) {
          this.#o.emit({
            type: 'node-red.started',
            severity: 'info',
            data: {
              pid: m.pid,
              nodeRedVersion: m.nodeRedVersion,
              heapLimitMb: m.heapLimitMb,
              startedAtMs: m.startedAtMs,
              restarts: this.#child?.status().restarts ?? 0,
            },
          });
          if (previous && !this.#mode.supervise) {
            this.#sight({ kind: 'exit', how: `restarted (pid ${previous.pid} → ${m.pid})` });
          }
        }
        break;
      }
      case 'listening':
        this.#listening = m;
        this.#scheduleDriftCheck();
        break;
      case 'flows':
        this.#flows = m;
        if (m.state === 'stopped') this.#sight({ kind: 'stopped' });
        else if (m.state === 'started')
          this.#sight({ kind: 'started', rev: m.rev, notStarted: m.notStarted ?? [] });
        else this.#sight({ kind: 'blocked', error: m.error ?? 'blocked', types: m.types ?? [] });
        break;
      case 'deploy':
        if (!this.#deploying && m.rev !== undefined && m.rev !== this.#deployedRev)
          this.#scheduleDriftCheck();
        else if (m.rev !== undefined && m.rev === this.#deployedRev && this.#drift)
          this.#scheduleDriftCheck();
        break;
      case 'log':
        this.#onLog(m);
        break;
      case 'dropped':
        this.#droppedLines += m.count;
        break;
    }
    this.#notify();
  }

  #onLog(m: Extract<LinkMessage, { t: 'log' }>): void {
    if (m.level === 'debug' || m.level === 'trace') return;
    if (m.level === 'error' || m.level === 'fatal') {
      this.#lastError = m.msg.slice(0, 300);
      this.#sight({ kind: 'error', level: m.level, message: m.msg.slice(0, 500), node: m.node });
    }
    const r = admitLog(this.#limiter, m.level, m.node, this.#o.clock.monotonicMs());
    this.#limiter = r.state;
    if (!r.admit) {
      this.#droppedLines++;
      return;
    }
    this.#o.emit({
      type: 'node-red.log',
      severity: m.level === 'fatal' ? 'critical' : m.level === 'info' ? 'info' : 'warning',
      data: {
        level: m.level,
        message: m.msg.slice(0, 1000),
        ...(m.node
          ? { node: { id: m.node.id, type: m.node.type, ...(m.node.name ? { name: m.node.name } : {}) } }
          : {}),
      },
    });
  }

  #emitDropped(summary: NonNullable<ReturnType<typeof takeSummary>['summary']>): void {
    this.#o.emit({
      type: 'node-red.log.dropped',
      severity: 'info',
      data: { dropped: summary.dropped, sinceMs: summary.sinceMs, nodes: summary.nodes },
    });
  }

  #onExit(e: ChildExit): void {
    this.#hello = undefined;
    this.#listening = undefined;
    this.#flows = undefined;
    const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    this.#sight({ kind: 'exit', how });
    this.#o.emit({
      type: 'node-red.exited',
      severity: 'warning',
      data: {
        code: e.code,
        signal: e.signal,
        ranMs: Math.round(e.ranMs),
        restartInMs: e.restartInMs ?? null,
        restarts: e.restarts,
        ...(this.#lastError ? { lastError: this.#lastError } : {}),
      },
    });
    this.#notify();
  }

  // ---------------------------------------------------------------- drift

  #scheduleDriftCheck(): void {
    this.#driftCheck = this.#driftCheck
      .then(() => this.#checkDrift())
      .catch((err: Error) => {
        this.#o.log?.('warn', `Node-RED drift check: ${err.message}`);
      });
  }

  async #checkDrift(): Promise<void> {
    const signed = this.#signed;
    if (this.#closed || !signed || !this.#listening || this.#deploying || this.#deployedRev === undefined)
      return;
    const running = await this.#admin().flows();
    if (running.rev === this.#deployedRev) {
      if (this.#drift) {
        this.#drift = undefined;
        rmSync(this.paths.driftFile, { force: true });
        this.#o.emit({ type: 'flows.drift.cleared', severity: 'info', data: { revision: running.rev } });
      }
      return;
    }
    if (this.#drift?.revision === running.rev) return;
    const diff = diffFlows(signed.flows, running.flows);
    const record: DriftRecord = {
      detectedAtMs: this.#o.clock.nowMs(),
      revision: running.rev,
      signedRevision: this.#deployedRev,
      config: signed.ref,
      diff,
      flows: running.flows.map(({ credentials: _omit, ...n }) => n as FlowNode),
    };
    this.#drift = record;
    writeFileAtomic(this.paths.driftFile, JSON.stringify(record));
    const names = (xs: { name: string; type: string; tab?: string }[]) =>
      xs.slice(0, 50).map((x) => ({ name: x.name, type: x.type, ...(x.tab ? { tab: x.tab } : {}) }));
    this.#o.emit({
      type: 'flows.drift',
      severity: 'warning',
      data: {
        revision: running.rev,
        signedRevision: this.#deployedRev,
        config: signed.ref,
        added: names(diff.added),
        removed: names(diff.removed),
        changed: names(diff.changed),
        counts: { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
        summary: isEmptyDiff(diff) ? 'only the layout changed' : describeDiff(diff),
      },
    });
  }

  // ---------------------------------------------------------------- waiting

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  #waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#closed) finish(new Error('closed'));
        else if (done()) finish();
      };
      const timer = this.#o.clock.setTimeout(() => finish(new Error('timed out')), timeoutMs);
      const finish = (err?: Error) => {
        this.#waiters.delete(check);
        this.#o.clock.clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => this.#o.clock.setTimeout(r, ms));
  }
}

function nodeRedOf(config: unknown): NodeRedConfig | undefined {
  const section = (config as { nodeRed?: unknown } | null)?.nodeRed;
  if (section === undefined) return undefined;
  const parsed = nodeRedSchema.safeParse(section);
  return parsed.success ? parsed.data : undefined;
}

function flowsOf(config: unknown): FlowNode[] {
  const flows = (config as { flows?: unknown } | null)?.flows;
  return Array.isArray(flows) ? (flows as FlowNode[]) : [];
}

function samePlan(a: LaunchPlan, b: LaunchPlan | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A module's declared types that its installed version does not register. */
function moduleTypeProblems(
  nodeRed: NodeRedConfig,
  registry: ReadonlyMap<string, readonly string[]>,
): { path: string; message: string; fix: string }[] {
  const problems: { path: string; message: string; fix: string }[] = [];
  nodeRed.modules.forEach((m, i) => {
    const loaded = registry.get(m.name);
    if (!loaded) {
      problems.push({
        path: `nodeRed.modules[${i}]`,
        message: `${m.name}@${m.version} is installed but Node-RED did not load it`,
        fix: 'check that it is a Node-RED module for Node-RED 4.1 that needs no install script',
      });
      return;
    }
    (m.types ?? []).forEach((t, k) => {
      if (!loaded.includes(t)) {
        problems.push({
          path: `nodeRed.modules[${i}].types[${k}]`,
          message: `${m.name}@${m.version} registers no type "${t}" (it registers ${loaded.join(', ')})`,
          fix: 'list only the types the module registers',
        });
      }
    });
  });
  return problems;
}

/** The settings and heap flag last written for the launcher, if both are there. */
function planOnDisk(paths: NodeRedPaths): LaunchPlan | undefined {
  try {
    const settings = JSON.parse(readFileSync(paths.settingsFile, 'utf8')) as LaunchPlan['settings'];
    const env = readFileSync(join(paths.hostDir, 'launch.env'), 'utf8');
    const options = /^NODE_OPTIONS=(.*)$/m.exec(env)?.[1]?.trim();
    return options === undefined ? undefined : { settings, nodeArgs: options.split(/\s+/) };
  } catch {
    return undefined;
  }
}
