// One supervised child process: start, restart after an unexpected exit with backoff, stop (TERM,
// then KILL after a grace period). The firmware supervisor runs one per firmware process, the
// Node-RED host one for Node-RED. The command is asked for at every start, so a restart picks up
// a new config path or new settings.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import type { Clock, TimerHandle } from '@brana/firmware';
import { type BackoffPolicy, DEFAULT_BACKOFF, restartDelay } from './backoff.ts';

export interface ChildCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export type ChildState = 'stopped' | 'running' | 'backoff';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How long it ran, ms. */
  ranMs: number;
  /** When it will be started again; undefined when it was asked to stop. */
  restartInMs: number | undefined;
  /** Starts after unexpected exits so far. */
  restarts: number;
}

export interface SupervisedChildOptions {
  /** For log lines: "firmware rt", "Node-RED". */
  label: string;
  clock: Clock;
  backoff?: Partial<BackoffPolicy>;
  /** Unix niceness for the child (0 = same as the agent; higher = less CPU under contention). */
  niceness?: number;
  /** Linux OOM score adjustment (higher = killed first when memory runs out). */
  oomScoreAdj?: number;
  /** The child's stdout and stderr, a line at a time; default: inherited. */
  output?: (line: string) => void;
  onStart?: (pid: number) => void;
  onExit?: (exit: ChildExit) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Grace period between SIGTERM and SIGKILL on stop (default 3 s). */
  stopGraceMs?: number;
  /** What to do when the command cannot be started at all, for the log line. */
  startFix?: string;
}

export interface ChildStatus {
  state: ChildState;
  pid: number | undefined;
  restarts: number;
  lastExit: string | undefined;
  startedAtMs: number | undefined;
}

export class SupervisedChild {
  readonly #o: SupervisedChildOptions;
  readonly #policy: BackoffPolicy;
  #command: (() => ChildCommand) | undefined;
  #child: ChildProcess | undefined;
  #state: ChildState = 'stopped';
  #restarts = 0;
  #lastExit: string | undefined;
  #startedAtMs: number | undefined;
  #startedMono = 0;
  #pendingMs: number;
  #timer: TimerHandle | undefined;
  #exits = 0;

  constructor(options: SupervisedChildOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#pendingMs = this.#policy.minMs;
  }

  /** Starts the process (stopping a running one first); `command` is asked again at every restart. */
  async start(command: () => ChildCommand): Promise<void> {
    await this.stop();
    this.#command = command;
    this.#pendingMs = this.#policy.minMs;
    this.#spawn();
  }

  async stop(): Promise<void> {
    this.#command = undefined;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'stopped';
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), this.#o.stopGraceMs ?? 3000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  status(): ChildStatus {
    return {
      state: this.#state,
      pid: this.#child?.pid,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      startedAtMs: this.#startedAtMs,
    };
  }

  /** Unexpected exits since the last call (a config trial counts them). */
  takeExits(): number {
    const n = this.#exits;
    this.#exits = 0;
    return n;
  }

  #spawn(): void {
    const make = this.#command;
    if (!make) return;
    const cmd = make();
    const output = this.#o.output;
    const child = spawn(cmd.command, cmd.args, {
      stdio: ['ignore', output ? 'pipe' : 'inherit', output ? 'pipe' : 'inherit'],
      env: { ...process.env, ...cmd.env },
    });
    if (output) {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream)
          createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', output);
      }
    }
    this.#child = child;
    this.#state = 'running';
    this.#startedAtMs = this.#o.clock.nowMs();
    this.#startedMono = this.#o.clock.monotonicMs();
    if (child.pid !== undefined) {
      this.#lowerPriority(child.pid);
      this.#o.onStart?.(child.pid);
    }
    child.on('error', (err) => {
      this.#lastExit = `could not start ${cmd.command}: ${err.message}`;
      this.#o.log?.(
        'error',
        `${this.#o.label}: ${this.#lastExit}${this.#o.startFix ? `. Fix: ${this.#o.startFix}` : ''}`,
      );
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#exits++;
      this.#lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const ranMs = this.#o.clock.monotonicMs() - this.#startedMono;
      if (this.#command === undefined) {
        this.#state = 'stopped';
        this.#o.onExit?.({ code, signal, ranMs, restartInMs: undefined, restarts: this.#restarts });
        return;
      }
      const { delayMs, nextMs } = restartDelay(this.#pendingMs, ranMs, this.#policy);
      this.#pendingMs = nextMs;
      this.#state = 'backoff';
      this.#o.log?.('warn', `${this.#o.label} ${this.#lastExit}; restarting in ${delayMs} ms`);
      this.#o.onExit?.({ code, signal, ranMs, restartInMs: delayMs, restarts: this.#restarts });
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#restarts++;
        this.#spawn();
      }, delayMs);
    });
  }

  /** Best effort: lowering one's own child's priority needs no privileges on Linux. */
  #lowerPriority(pid: number): void {
    if (this.#o.niceness) {
      try {
        setPriority(pid, this.#o.niceness);
      } catch (err) {
        this.#o.log?.('warn', `${this.#o.label}: cannot lower its CPU priority (${(err as Error).message})`);
      }
    }
    if (this.#o.oomScoreAdj !== undefined && process.platform === 'linux') {
      try {
        writeFileSync(`/proc/${pid}/oom_score_adj`, String(this.#o.oomScoreAdj));
      } catch {
        // Not on every kernel or container; the heap cap still bounds it.
      }
    }
  }
}
