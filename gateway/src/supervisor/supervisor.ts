// Starts and restarts the firmware processes in development and on the bench (on a Pi, systemd
// does this with the units in gateway/systemd/). Commands are configurable so that tests run a
// small stand-in that speaks the IPC protocol. `{config}` and `{socket}` in args are replaced.
import type { Clock } from '@brana/firmware';
import { type ChildCommand, type ChildState, SupervisedChild } from './child.ts';

export type FirmwareName = 'rt' | 'fieldbus';

export type FirmwareCommand = ChildCommand;

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
  state: ChildState;
  pid: number | undefined;
  restarts: number;
  lastExit: string | undefined;
  startedAtMs: number | undefined;
}

interface Managed {
  name: FirmwareName;
  cmd: FirmwareCommand;
  child: SupervisedChild;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #procs: Managed[];

  constructor(options: SupervisorOptions) {
    this.#o = options;
    const output = options.output;
    this.#procs = (Object.entries(options.processes) as [FirmwareName, FirmwareCommand][]).map(
      ([name, cmd]) => ({
        name,
        cmd,
        child: new SupervisedChild({
          label: `firmware ${name}`,
          startFix: `check firmware.${name}.command`,
          clock: options.clock,
          backoff: {
            ...(options.restartMinMs === undefined ? {} : { minMs: options.restartMinMs }),
            ...(options.restartMaxMs === undefined ? {} : { maxMs: options.restartMaxMs }),
          },
          ...(output ? { output: (line: string) => output(name, line) } : {}),
          ...(options.log ? { log: options.log } : {}),
        }),
      }),
    );
  }

  names(): FirmwareName[] {
    return this.#procs.map((p) => p.name);
  }

  /** Stops the processes and starts them again with `configPath` (null: leave them stopped). */
  async restart(configPath: string | null): Promise<void> {
    await this.stop();
    if (configPath === null) return;
    const socket = this.#o.socketPath;
    for (const p of this.#procs) {
      await p.child.start(() => ({
        command: p.cmd.command,
        args: p.cmd.args.map((a) => a.replaceAll('{config}', configPath).replaceAll('{socket}', socket)),
        env: { ...p.cmd.env, BRANA_AGENT_SOCKET: socket, BRANA_CONFIG: configPath },
      }));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.child.stop()));
  }

  status(): FirmwareProcessStatus[] {
    return this.#procs.map((p) => ({ name: p.name, ...p.child.status() }));
  }

  /** Exits per process since the last call (the trial uses it to see crashes). */
  takeExits(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.#procs) out[p.name] = p.child.takeExits();
    return out;
  }
}
