// sd_notify as systemd would see it: a datagram socket in NOTIFY_SOCKET receives READY=1 after the
// self-test and WATCHDOG=1 at half of WATCHDOG_USEC, from the running rt process.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RtBench, startRtBench, stopChild } from './rt-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-notify-'));
const socketPath = join(dir, 'notify.sock');
let receiver: ChildProcess | undefined;
let bench: RtBench | undefined;
afterEach(async () => {
  await bench?.close();
  if (receiver) await stopChild(receiver, 2000);
  rmSync(dir, { recursive: true, force: true });
});

describe('systemd notify from the rt process', () => {
  it('sends READY=1 after the self-test and WATCHDOG=1 periodically', async () => {
    // Node cannot bind AF_UNIX datagram sockets; socat plays systemd's receiving end.
    receiver = spawn('socat', ['-u', `UNIX-RECV:${socketPath}`, 'STDOUT'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let got = '';
    receiver.stdout?.on('data', (d: Buffer) => {
      got += d.toString();
    });
    const deadline = Date.now() + 5000;
    while (!existsSync(socketPath) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    bench = await startRtBench({ env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' } });
    const t0 = Date.now();
    while ((got.match(/WATCHDOG=1/g) ?? []).length < 5 && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(got).toMatch(/READY=1\nSTATUS=running/);
    expect((got.match(/WATCHDOG=1/g) ?? []).length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
