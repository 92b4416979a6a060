// The wire bus between processes, as the firmware's rt process and the bench use it: an edge goes
// from this process through the bench's socket to a child process and back.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectWires } from '../src/bench/wires/wire-client.ts';
import { WireServer } from '../src/bench/wires/wire-server.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('wires across processes', () => {
  it('an edge crosses to another process and back; round trip measured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-wx-'));
    const server = await WireServer.listen({ path: join(dir, 'wires.sock') });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'fixtures', 'wire-echo.ts'), server.path],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (c) => reject(new Error(`echo child exited ${c}`)));
      });
      const me = await connectWires(server.path);
      const rounds: number[] = [];
      for (let i = 0; i < 100; i++) {
        const level = (i % 2 === 0 ? 1 : 0) as 0 | 1;
        const back = new Promise<bigint>((resolve) => {
          const off = me.onEdge('pong', () => {
            off();
            resolve(process.hrtime.bigint());
          });
        });
        const t0 = process.hrtime.bigint();
        await me.set('ping', level);
        rounds.push(Number((await back) - t0) / 1000);
      }
      rounds.sort((x, y) => x - y);
      const p50 = rounds[50] ?? Number.NaN;
      console.log(
        `wire round trip via another process: p50 ${p50.toFixed(0)} µs, p99 ${(rounds[98] ?? 0).toFixed(0)} µs`,
      );
      expect(await me.read('pong')).toBe(await me.read('ping'));
      // Two crossings per round trip; generous for a shared machine.
      expect(p50).toBeLessThan(10_000);
      await me.close();
    } finally {
      child.kill('SIGTERM');
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
