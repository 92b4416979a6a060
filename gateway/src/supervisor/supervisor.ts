// Starts and restarts the firmware processes in development and on the bench (on a Pi, systemd
// does this with the units in gateway/systemd/). Commands are configurable so that tests run a
// small stand-in that speaks the IPC protocol. `{config}` and `{socket}` in args are replaced.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Clock, TimerHandle } from '@brana/firmware';

export type FirmwareName = 'rt' | 'fieldbus';

export interface FirmwareCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  processes: Partial<Record<FirmwareName, FirmwareCommand>>;
  socketPath: string;
  clock: Clock;
  /** Restart backoff after an unexpected exit (default 500 ms doubling to 30 s). */
  restartMinMs?: number;
  restartMaxMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Where the firmware processes' own stdout and stderr go, a line at a time. Default: straight to
   * this process's (systemd's journal on a Pi); a terminal UI passes a function so that they do not
   * print over it.
   */
  output?: (name: FirmwareName, line: string) => void;
}

export interface FirmwareProcessStatus {
  name: FirmwareName;
  state: 'stopped' | 'running' | 'backoff';
  pid: number | undefined;
  restarts: number;
  lastExit: string | undefined;
  startedAtMs: number | undefined;
}

interface Managed {
  name: FirmwareName;
  cmd: FirmwareCommand;
  child: ChildProcess | undefined;
  state: FirmwareProcessStatus['state'];
  restarts: number;
  lastExit: string | undefined;
  startedAtMs: number | undefined;
  backoffMs: number;
  timer: TimerHandle | undefined;
  /** Exits seen since the counter was last read (trial health). */
  exits: number;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #procs: Managed[];
  #configPath: string | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#procs = (Object.entries(options.processes) as [FirmwareName, FirmwareCommand][]).map(
      ([name, cmd]) => ({
        name,
        cmd,
        child: undefined,
        state: 'stopped',
        restarts: 0,
        lastExit: undefined,
        startedAtMs: undefined,
        backoffMs: options.restartMinMs ?? 500,
        timer: undefined,
        exits: 0,
      }),
    );
  }

  names(): FirmwareName[] {
    return this.#procs.map((p) => p.name);
  }

  /** Stops the processes and starts them again with `configPath` (null: leave them stopped). */
  async restart(configPath: string | null): Promise<void> {
    await this.stop();
    this.#configPath = configPath;
    if (configPath === null) return;
    for (const p of this.#procs) this.#spawn(p);
  }

  async stop(): Promise<void> {
    this.#configPath = null;
    await Promise.all(this.#procs.map((p) => this.#kill(p)));
  }

  status(): FirmwareProcessStatus[] {
    return this.#procs.map((p) => ({
      name: p.name,
      state: p.state,
      pid: p.child?.pid,
      restarts: p.restarts,
      lastExit: p.lastExit,
      startedAtMs: p.startedAtMs,
    }));
  }

  /** Exits per process since the last call (the trial uses it to see crashes). */
  takeExits(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.#procs) {
      out[p.name] = p.exits;
      p.exits = 0;
    }
    return out;
  }

  #spawn(p: Managed): void {
    const config = this.#configPath;
    if (config === null) return;
    const args = p.cmd.args.map((a) =>
      a.replaceAll('{config}', config).replaceAll('{socket}', this.#o.socketPath),
    );
    const output = this.#o.output;
    const child = spawn(p.cmd.command, args, {
      stdio: ['ignore', output ? 'pipe' : 'inherit', output ? 'pipe' : 'inherit'],
      env: { ...process.env, ...p.cmd.env, BRANA_AGENT_SOCKET: this.#o.socketPath, BRANA_CONFIG: config },
    });
    if (output) {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream)
          createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
            output(p.name, line),
          );
      }
    }
    p.child = child;
    p.state = 'running';
    p.startedAtMs = this.#o.clock.nowMs();
    child.on('error', (err) => {
      p.lastExit = `could not start ${p.cmd.command}: ${err.message}`;
      this.#o.log?.('error', `firmware ${p.name}: ${p.lastExit}. Fix: check firmware.${p.name}.command`);
    });
    child.on('exit', (code, signal) => {
      if (p.child !== child) return;
      p.child = undefined;
      p.exits++;
      p.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (this.#configPath === null) {
        p.state = 'stopped';
        return;
      }
      this.#o.log?.('warn', `firmware ${p.name} ${p.lastExit}; restarting in ${p.backoffMs} ms`);
      p.state = 'backoff';
      // A process that ran a while earns a fast restart again; a crash loop backs off.
      const ranMs = this.#o.clock.nowMs() - (p.startedAtMs ?? 0);
      if (ranMs > 60_000) p.backoffMs = this.#o.restartMinMs ?? 500;
      p.timer = this.#o.clock.setTimeout(() => {
        p.timer = undefined;
        p.restarts++;
        this.#spawn(p);
      }, p.backoffMs);
      p.backoffMs = Math.min(this.#o.restartMaxMs ?? 30_000, p.backoffMs * 2);
    });
  }

  #kill(p: Managed): Promise<void> {
    if (p.timer) this.#o.clock.clearTimeout(p.timer);
    p.timer = undefined;
    p.state = 'stopped';
    const child = p.child;
    p.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
