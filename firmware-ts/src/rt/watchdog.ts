// Liveness for the supervisors: systemd's software watchdog (sd_notify WATCHDOG=1 on the
// datagram socket in NOTIFY_SOCKET) and the Linux hardware watchdog (/dev/watchdog) where present.
// Both are kicked only from the rt cycle, so a stalled loop stops kicking and gets restarted.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';

export interface Notifier {
  /** Sends one sd_notify state line such as `READY=1` or `WATCHDOG=1`. Never blocks. */
  notify(state: string): void;
  close(): void;
}

/**
 * The sd_notify client. Node cannot open AF_UNIX datagram sockets, so one long-lived `socat`
 * child forwards each line written to its stdin as a datagram; the unit therefore sets
 * NotifyAccess=all (systemd would otherwise ignore datagrams from a child's pid).
 * Returns undefined when NOTIFY_SOCKET is not set (not started by systemd).
 */
export function systemdNotifier(
  env: NodeJS.ProcessEnv = process.env,
  onError?: (e: Error) => void,
): Notifier | undefined {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return undefined;
  const target = socket.startsWith('@') ? `ABSTRACT-SENDTO:${socket.slice(1)}` : `UNIX-SENDTO:${socket}`;
  let child: ChildProcess | undefined = spawn('socat', ['-u', 'STDIN', target], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', (e) => {
    onError?.(
      new Error(`sd_notify helper (socat) failed: ${e.message}; install socat or unset NOTIFY_SOCKET`),
    );
    child = undefined;
  });
  child.on('exit', () => {
    child = undefined;
  });
  child.stdin?.on('error', () => {});
  return {
    notify(state) {
      const stdin = child?.stdin;
      if (stdin && !stdin.writableNeedDrain) stdin.write(`${state}\n`);
    },
    close() {
      child?.stdin?.end();
      child?.kill();
      child = undefined;
    },
  };
}

/** Interval at which to send WATCHDOG=1: half of WATCHDOG_USEC, if it is meant for this process. */
export function watchdogIntervalMs(
  env: NodeJS.ProcessEnv = process.env,
  pid = process.pid,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return usec / 2000;
}

/** The Linux hardware watchdog: any write restarts its countdown; 'V' before close disarms it. */
export class HardwareWatchdog {
  private fd: number | undefined;
  private readonly byte = Buffer.from([0]);

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens the device if it exists; undefined when absent (development machines, containers). */
  static openIfPresent(path = '/dev/watchdog'): HardwareWatchdog | undefined {
    if (!existsSync(path)) return undefined;
    return new HardwareWatchdog(openSync(path, 'w'));
  }

  kick(): void {
    if (this.fd !== undefined) writeSync(this.fd, this.byte);
  }

  /** Clean shutdown: the magic close character disarms the watchdog. */
  close(): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, 'V');
    closeSync(this.fd);
    this.fd = undefined;
  }
}
