// Opening a TCP connection to a Modbus device or gateway, bounded in time. Without a bound, a
// connection attempt to a host that is switched off waits for the kernel's SYN retries (about two
// minutes on Linux), long after the device is back; with one, the caller retries on its own backoff.
import { connect, type Socket } from 'node:net';
import { PortOpenError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';

export interface TcpTarget {
  host: string;
  port: number;
  /** Give up a connection attempt after this long, ms. */
  connectTimeoutMs: number;
  clock: Clock;
  /** Keepalive probes after this much idle time, so a peer that vanished is noticed. Default 10 s. */
  keepAliveMs?: number;
}

/** Why an attempt failed, in words, and what to check. */
export function describeConnectFailure(
  err: NodeJS.ErrnoException,
  t: Pick<TcpTarget, 'host' | 'port'>,
): { problem: string; fix: string } {
  switch (err.code) {
    case 'ECONNREFUSED':
      return {
        problem: 'connection refused',
        fix: `the host answers but nothing listens on port ${t.port}: check the port, or wait for the device to finish restarting`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return {
        problem: `host name ${t.host} not found`,
        fix: 'check the host name, or use the IP address',
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return {
        problem: `no route to ${t.host}`,
        fix: "check the network cable, the address and the gateway's network settings",
      };
    default:
      return {
        problem: `cannot connect (${err.code ?? err.message})`,
        fix: `check that the device listens on ${t.host}:${t.port} and that no firewall blocks it`,
      };
  }
}

/** Connects; rejects with PortOpenError (refused, unreachable, timed out) naming host, port and the fix. */
export function connectTcp(t: TcpTarget): Promise<Socket> {
  const target = `tcp:${t.host}:${t.port}`;
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: t.host, port: t.port });
    const timer = t.clock.setTimeout(() => {
      socket.destroy();
      reject(
        new PortOpenError(
          target,
          `no answer to the connection attempt within ${t.connectTimeoutMs} ms`,
          'check that the device is powered and on the network (ping it), and its address',
        ),
      );
    }, t.connectTimeoutMs);
    socket.once('connect', () => {
      t.clock.clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, t.keepAliveMs ?? 10_000);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      t.clock.clearTimeout(timer);
      socket.destroy();
      const { problem, fix } = describeConnectFailure(err, t);
      reject(new PortOpenError(target, problem, fix, err));
    });
  });
}
