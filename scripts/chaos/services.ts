// The region's processes run the way systemd runs them on a Pi (gateway/systemd/*.service): each
// its own OS process, restarted after RestartSec whatever way it ended, so that kill -9 of one
// never takes another with it. Output goes to one log file per process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Like systemd's RestartSec. */
  restartMs: number;
  /** Like ConditionPathExists: the process is started only once this holds (checked each second). */
  condition?: () => boolean;
  logFile: string;
  /** Lines of the process's output, for whoever wants to watch them. */
  onLine?: (line: string) => void;
}

export interface ServiceRun {
  pid: number;
  startedAt: number;
  endedAt: number | null;
  /** 'SIGKILL' for a chaos kill, 'SIGTERM' for a stop or restart, else the exit code. */
  end: string | null;
}

export class Service {
  readonly runs: ServiceRun[] = [];
  #child: ChildProcess | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #enabled = false;
  readonly #log: WriteStream;
  #exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: ServiceSpec) {
    this.#log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Running now, and since when (ms since the epoch); null when down. */
  upSince(): number | null {
    const last = this.runs[this.runs.length - 1];
    return this.#child && last && last.endedAt === null ? last.startedAt : null;
  }

  /** Starts the process and keeps it running until stop(). */
  enable(): void {
    this.#enabled = true;
    if (!this.#child && !this.#timer) this.#start();
  }

  /** kill -9, as chaos does; systemd brings it back after restartMs. Returns false when it was down. */
  kill(): boolean {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return false;
    child.kill('SIGKILL');
    return true;
  }

  /** systemctl restart: SIGTERM, wait, start again. */
  async restart(): Promise<void> {
    await this.#terminate();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#enabled) this.#start();
  }

  /** systemctl stop: SIGTERM (SIGKILL after timeoutMs), and no restart. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#enabled = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#terminate(timeoutMs);
  }

  async closeLog(): Promise<void> {
    await new Promise<void>((resolve) => this.#log.end(() => resolve()));
  }

  async #terminate(timeoutMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.#exited;
    const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.kill('SIGTERM');
    await this.#exited;
    clearTimeout(force);
  }

  #start(): void {
    this.#timer = undefined;
    if (!this.#enabled) return;
    if (this.spec.condition && !this.spec.condition()) {
      this.#timer = setTimeout(() => this.#start(), 1000);
      return;
    }
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const run: ServiceRun = { pid: child.pid ?? -1, startedAt: Date.now(), endedAt: null, end: null };
    this.runs.push(run);
    this.#log.write(`--- ${new Date().toISOString()} start pid ${run.pid}\n`);
    let pending = '';
    const onData = (chunk: Buffer) => {
      this.#log.write(chunk);
      if (!this.spec.onLine) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.spec.onLine(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.#exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.#log.write(`--- cannot start ${this.spec.command}: ${err.message}\n`);
      });
      child.once('close', (code, signal) => {
        run.endedAt = Date.now();
        run.end = signal ?? String(code);
        this.#log.write(`--- ${new Date().toISOString()} pid ${run.pid} ended: ${run.end}\n`);
        if (this.#child === child) this.#child = undefined;
        if (this.#enabled && !this.#timer) this.#timer = setTimeout(() => this.#start(), this.spec.restartMs);
        resolve();
      });
    });
  }
}
