// mbpoll (Debian package, a Modbus master no one here wrote) as the outside master of the integration
// tests: one poll of float32 input registers with big-endian words, over TCP or RTU 8N1.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type MbpollTarget = { tcp: { host: string; port: number } } | { rtu: { path: string; baud: number } };

export interface MbpollRead {
  unit: number;
  /** 1-based reference, as mbpoll counts (protocol address + 1). */
  ref: number;
  /** Number of float32 values (two registers each). */
  count: number;
  /** Response timeout, seconds. Default 3: the machine is shared and can stall. */
  timeoutS?: number;
}

export function mbpollArgs(target: MbpollTarget, read: MbpollRead): string[] {
  const how =
    'tcp' in target
      ? ['-m', 'tcp', '-p', String(target.tcp.port)]
      : ['-m', 'rtu', '-b', String(target.rtu.baud), '-P', 'none'];
  const where = 'tcp' in target ? target.tcp.host : target.rtu.path;
  const what = [
    '-a',
    String(read.unit),
    '-t',
    '3:float',
    '-B',
    '-r',
    String(read.ref),
    '-c',
    String(read.count),
  ];
  return [...how, ...what, '-o', String(read.timeoutS ?? 3), '-1', where];
}

/** mbpoll prints one `[ref]: value` line per value; returns value by 1-based reference. */
export function parseMbpoll(stdout: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

/** Polls once. `output` is stdout, with stderr added when mbpoll fails (timeouts, exceptions). */
export async function mbpollFloats(
  target: MbpollTarget,
  read: MbpollRead,
): Promise<{ ok: boolean; output: string; values: Map<number, number> }> {
  return run('mbpoll', mbpollArgs(target, read)).then(
    (r) => ({ ok: true, output: r.stdout, values: parseMbpoll(r.stdout) }),
    (e: { stdout?: string; stderr?: string }) => {
      const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      return { ok: false, output, values: parseMbpoll(output) };
    },
  );
}
