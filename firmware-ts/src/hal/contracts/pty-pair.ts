// Test support: a linked pair of pseudo-terminals made by socat, as the bench uses for serial
// devices. Each end is a real tty; what one end writes the other reads.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

export async function openPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'brana-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A test that fails before it calls close() must not leave socat running after the worker exits.
  const reap = () => child.kill();
  process.once('exit', reap);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      process.off('exit', reap);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not create a pty pair: ${stderr.trim() || 'timed out'}. Fix: install socat`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    a,
    b,
    close: async () => {
      process.off('exit', reap);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
