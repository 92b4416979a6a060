// The serial radio between vehicle units and the intersection gateway on the bench: a socat pty
// pair, the vehicle side at <dir>/radio.vehicle and the gateway side at <dir>/radio.gateway.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StartError } from './errors.ts';

export interface RadioPty {
  vehiclePath: string;
  gatewayPath: string;
  stop(): Promise<void>;
}

export async function startRadioPty(dir: string): Promise<RadioPty> {
  const vehiclePath = join(dir, 'radio.vehicle');
  const gatewayPath = join(dir, 'radio.gateway');
  for (const p of [vehiclePath, gatewayPath]) rmSync(p, { force: true });
  let child: ChildProcess;
  try {
    child = spawn('socat', [`pty,raw,echo=0,link=${vehiclePath}`, `pty,raw,echo=0,link=${gatewayPath}`], {
      stdio: 'ignore',
      // In npm start's process group: a Ctrl-C reaches it even if npm start itself is killed.
      detached: false,
    });
  } catch (err) {
    throw new StartError(
      'PART_FAILED',
      `cannot run socat (${(err as Error).message}). Fix: sudo apt-get install socat`,
    );
  }
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const spawnError = new Promise<Error>((resolveError) => child.once('error', resolveError));
  const deadline = Date.now() + 5000;
  while (!(existsSync(vehiclePath) && existsSync(gatewayPath))) {
    const early = await Promise.race([
      spawnError.then((e) => `socat: ${e.message}`),
      exited.then((code) => `socat exited (${code})`),
      new Promise<null>((r) => setTimeout(() => r(null), 25)),
    ]);
    if (early !== null || Date.now() > deadline) {
      if (child.exitCode === null) child.kill('SIGTERM');
      throw new StartError(
        'PART_FAILED',
        `radio pty pair did not come up (${early ?? 'timeout'}). Fix: install socat (sudo apt-get install socat)`,
      );
    }
  }
  return {
    vehiclePath,
    gatewayPath,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}
