// Runs the apply machine's actions one at a time against real files and the config's targets (the
// firmware, Node-RED): each puts the active config into effect and takes part in the trial.
// Files in <dataDir>/config: active.json (what the firmware is started with), good.json (last known
// good, with its ref), staged.json, state.json ({ running, refused }). All written atomically, so
// a power cut in the middle of an apply leaves the last known good config in place.
import { join } from 'node:path';
import { type ConfigRef, type SignedConfigDocument, verifyDocument } from '@brana/protocol';
import { ConfigTargetError } from '../errors.ts';
import { readJsonFile, writeFileAtomic } from '../state/index.ts';
import {
  type ApplyAction,
  type ApplyInput,
  type ApplyIssue,
  type ApplyMachine,
  type ApplyState,
  initialMachine,
  type ReportedState,
  step,
} from './plan.ts';

/** The shape of @brana/firmware's validateGatewayConfig. */
export type ConfigValidator = (
  config: unknown,
) =>
  | { ok: true; config?: unknown }
  | { ok: false; errors: { path: string; message: string; fix?: string }[] };

export type TrialResult = { ok: true } | { ok: false; detail: string; errors?: ApplyIssue[] };

/** The config in effect: its file (active.json), its document, and which version it is. */
export interface ActiveConfig {
  path: string;
  config: unknown;
  ref: ConfigRef;
}

/** Why a target is given a config: the agent started, an apply, or a rollback to the last good one. */
export type ApplyReason = 'start' | 'apply' | 'rollback';

/** A part of the gateway that runs (part of) the config: the firmware processes, Node-RED. */
export interface ConfigTarget {
  readonly name: string;
  /** Puts `active` into effect; null: there is no good config (stop, outputs off). */
  apply(active: ActiveConfig | null, reason: ApplyReason): Promise<void>;
  /** Watches for `trialMs` after an apply and says whether this part is healthy. */
  trial(trialMs: number): Promise<TrialResult>;
}

export interface ApplierOptions {
  dataDir: string;
  serverPublicKey: string;
  validate: ConfigValidator;
  /** Applied in this order; trialled together. */
  targets: readonly ConfigTarget[];
  trialMs: number;
  report: (r: {
    version: number;
    hash: string;
    state: ReportedState;
    errors?: ApplyIssue[];
    detail?: string;
  }) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Saved {
  ref: ConfigRef;
  config: unknown;
}

export interface ApplierStatus {
  state: ApplyState;
  running: ConfigRef | null;
  refused: ConfigRef | null;
  applying: ConfigRef | null;
  queued: ConfigRef | null;
  lastError: string | undefined;
}

export class ConfigApplier {
  readonly activePath: string;
  readonly #o: ApplierOptions;
  readonly #dir: string;
  #machine: ApplyMachine;
  #docs = new Map<string, SignedConfigDocument>();
  #busy: Promise<void> = Promise.resolve();
  #lastError: string | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ApplierOptions) {
    this.#o = options;
    this.#dir = join(options.dataDir, 'config');
    this.activePath = join(this.#dir, 'active.json');
    const state = readJsonFile<{ running: ConfigRef | null; refused: ConfigRef | null }>(
      join(this.#dir, 'state.json'),
      'config state',
    );
    this.#machine = initialMachine(state?.running ?? null, state?.refused ?? null);
    if (state?.running) this.#machine = { ...this.#machine, state: 'committed' };
  }

  /**
   * At start: make active.json the last known good config again. An agent that died during a
   * trial must not keep running the unproven candidate.
   */
  restoreActive(): void {
    const good = readJsonFile<Saved>(join(this.#dir, 'good.json'), 'last known good config');
    const running = this.#machine.current.running;
    if (good && running && good.ref.version === running.version && good.ref.hash === running.hash) {
      writeFileAtomic(this.activePath, JSON.stringify(good.config, null, 2));
    }
  }

  /** The active config file if the gateway has a committed config, else null. */
  activeConfigPath(): string | null {
    return this.#machine.current.running ? this.activePath : null;
  }

  /** The committed config (what restoreActive put in active.json), or null before the first. */
  activeConfig(): ActiveConfig | null {
    const running = this.#machine.current.running;
    if (!running) return null;
    const good = readJsonFile<Saved>(join(this.#dir, 'good.json'), 'last known good config');
    return good ? { path: this.activePath, config: good.config, ref: good.ref } : null;
  }

  /** Gives every target the committed config, as at the agent's start. */
  async startTargets(): Promise<void> {
    const active = this.activeConfig();
    for (const t of this.#o.targets) await t.apply(active, 'start');
  }

  running(): ConfigRef | null {
    return this.#machine.current.running;
  }

  status(): ApplierStatus {
    return {
      state: this.#machine.state,
      running: this.#machine.current.running,
      refused: this.#machine.current.refused,
      applying: this.#machine.active?.target ?? null,
      queued: this.#machine.queued,
      lastError: this.#lastError,
    };
  }

  /** The server's desired document (from reconcile or a push). Never throws. */
  desired(doc: SignedConfigDocument | null): void {
    let ref: ConfigRef | null = null;
    if (doc !== null) {
      ref = { version: doc.version, hash: doc.hash };
      this.#docs.set(`${doc.version}:${doc.hash}`, doc);
    }
    this.#feed({ type: 'desired', ref });
  }

  /** Resolves when no apply is running or queued. */
  idle(): Promise<void> {
    if (this.#machine.active === null) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #feed(input: ApplyInput): void {
    const r = step(this.#machine, input);
    this.#machine = r.machine;
    this.#persist();
    if (r.run) {
      const action = r.run;
      this.#busy = this.#busy.then(() => this.#execute(action));
    } else if (this.#machine.active === null) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  async #execute(action: ApplyAction): Promise<void> {
    let result: ApplyInput;
    try {
      result = await this.#run(action);
    } catch (err) {
      result =
        err instanceof ConfigTargetError
          ? { type: 'failed', errors: err.issues.slice(0, 200), detail: err.message }
          : { type: 'failed', detail: (err as Error).message };
    }
    if (result.type === 'failed') {
      this.#lastError = `${action.do} of config v${action.target.version}: ${result.detail ?? result.errors?.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
      this.#o.log?.('warn', this.#lastError);
    }
    this.#feed(result);
  }

  async #run(a: ApplyAction): Promise<ApplyInput> {
    const doc = this.#docs.get(`${a.target.version}:${a.target.hash}`);
    switch (a.do) {
      case 'verify': {
        const v = verifyDocument(doc, this.#o.serverPublicKey);
        if (v.ok) return { type: 'done' };
        const path =
          v.reason === 'bad-hash' ? 'hash' : v.reason === 'bad-signature' ? 'signature' : '(document)';
        return { type: 'failed', errors: [{ path, message: v.message }], detail: v.message };
      }
      case 'validate': {
        const r = this.#o.validate(doc?.config);
        if (r.ok) return { type: 'done' };
        const errors = r.errors.slice(0, 200).map((e) => ({
          path: e.path || '(root)',
          message: e.message,
          ...(e.fix === undefined ? {} : { fix: e.fix }),
        }));
        return { type: 'failed', errors, detail: `${r.errors.length} config error(s)` };
      }
      case 'stage':
        writeFileAtomic(
          join(this.#dir, 'staged.json'),
          JSON.stringify({ ref: a.target, config: doc?.config }),
        );
        return { type: 'done' };
      case 'restart': {
        writeFileAtomic(this.activePath, JSON.stringify(doc?.config, null, 2));
        const active = { path: this.activePath, config: doc?.config, ref: a.target };
        for (const t of this.#o.targets) await t.apply(active, 'apply');
        return { type: 'done' };
      }
      case 'trial': {
        const results = await Promise.all(this.#o.targets.map((t) => t.trial(this.#o.trialMs)));
        const failed = results.flatMap((r, i) => (r.ok ? [] : [{ name: this.#o.targets[i]!.name, r }]));
        if (failed.length === 0) return { type: 'done' };
        const errors = failed.flatMap(({ r }) => r.errors ?? []);
        return {
          type: 'failed',
          detail: `trial failed: ${failed.map(({ name, r }) => `${name}: ${r.detail}`).join('; ')}`,
          ...(errors.length > 0 ? { errors: errors.slice(0, 200) } : {}),
        };
      }
      case 'commit': {
        const saved: Saved = { ref: a.target, config: doc?.config };
        writeFileAtomic(join(this.#dir, 'good.json'), JSON.stringify(saved));
        return { type: 'done' };
      }
      case 'rollback': {
        const good = readJsonFile<Saved>(join(this.#dir, 'good.json'), 'last known good config');
        let active: ActiveConfig | null = null;
        if (a.to !== null && good) {
          writeFileAtomic(this.activePath, JSON.stringify(good.config, null, 2));
          active = { path: this.activePath, config: good.config, ref: good.ref };
        }
        // No good config ever (null): outputs off, firmware and flows stopped until a config passes.
        // Every target is rolled back even when one of them fails to; one that cannot go back is
        // stopped on its own (Node-RED failing to come back never stops the firmware). Only a
        // target that cannot even be stopped fails the rollback (the machine then stops them all).
        const unsafe: string[] = [];
        for (const t of this.#o.targets) {
          try {
            await t.apply(active, 'rollback');
          } catch (err) {
            const why = `${t.name} did not go back to the last good config (${(err as Error).message})`;
            try {
              if (active === null) throw err;
              await t.apply(null, 'rollback');
              this.#o.log?.('error', `${why}; it is stopped until a config passes its trial`);
            } catch (stopErr) {
              unsafe.push(`${why} and could not be stopped (${(stopErr as Error).message})`);
            }
          }
        }
        if (unsafe.length > 0) return { type: 'failed', detail: `rollback: ${unsafe.join('; ')}` };
        return { type: 'done' };
      }
      case 'report':
        this.#o.report({
          version: a.target.version,
          hash: a.target.hash,
          state: a.state,
          ...(a.errors && a.errors.length > 0 ? { errors: a.errors } : {}),
          ...(a.detail === undefined ? {} : { detail: a.detail.slice(0, 2000) }),
        });
        return { type: 'done' };
    }
  }

  #persist(): void {
    writeFileAtomic(join(this.#dir, 'state.json'), JSON.stringify(this.#machine.current));
  }
}
