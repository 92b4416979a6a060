// Runs brana-provision (and other packages' CLIs) as child processes for the integration tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROVISION_BIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'bin',
  'brana-provision.mjs',
);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function start(
  bin: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; done: Promise<Run>; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [bin, ...args], {
    env: {
      ...process.env,
      BRANA_FLEET_URL: undefined,
      BRANA_FLEET_TOKEN: undefined,
      BRANA_SOURCE: undefined,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, out: () => stdout, err: () => stderr };
}

export function provision(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return start(PROVISION_BIN, args, env).done;
}

export async function until(
  what: string,
  cond: () => boolean,
  timeoutMs: number,
  detail: () => string = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms ${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
