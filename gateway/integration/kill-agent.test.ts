// kill -9 of the agent in the middle of uploads, repeated: every reading the firmware produced
// reaches the fleet server exactly once, counted by the firmware's sequence numbers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { enrol } from '../src/fleet/index.ts';
import { type FakeFleet, startFakeFleet } from '../test/fake-fleet.ts';

const here = import.meta.dirname;
let dir: string;
let fleet: FakeFleet;
const children = new Set<ChildProcess>();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-kill-'));
  fleet = await startFakeFleet();
});
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

function tsx(file: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function waitForLine(child: ChildProcess, prefix: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "${prefix}" line in time`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

function startAgent(): ChildProcess {
  const options = {
    dataDir: dir,
    firmware: { supervise: false },
    localApiPort: 0,
    upload: { tickMs: 20, reconnectMinMs: 50, reconnectMaxMs: 200, batchSize: 200 },
  };
  return tsx(join(here, '../test/agent-process.ts'), [JSON.stringify(options)]);
}

it('kill -9 of the agent during uploads, four times: every reading arrives exactly once', async () => {
  await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
  const total = 6000;
  let agent = startAgent();
  await waitForLine(agent, 'ready');
  const firmware = tsx(join(here, '../test/firmware-stand-in.ts'), ['fieldbus'], {
    BRANA_AGENT_SOCKET: join(dir, 'agent.sock'),
    STAND_IN_COUNT: String(total),
    STAND_IN_RATE: '2000',
  });
  const done = waitForLine(firmware, 'done', 60_000);
  for (let kill = 0; kill < 4; kill++) {
    // Kill only once this agent has its fleet session, i.e. in the middle of uploading.
    const sessions = kill + 1;
    const deadline = Date.now() + 15_000;
    while (fleet.sessions < sessions && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    agent = startAgent();
    await waitForLine(agent, 'ready');
  }
  await done;
  const end = Date.now() + 30_000;
  while (fleet.readings.size < total && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const counts = new Map<number, number>();
  for (const r of fleet.readings.values())
    counts.set(r.value as number, (counts.get(r.value as number) ?? 0) + 1);
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((v) => !counts.has(v));
  const twice = [...counts].filter(([, n]) => n > 1);
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(fleet.readings.size).toBe(total);
  // Four killed agents and the last one each had a fleet session. The last may still be
  // connecting when the readings are all in already (the fourth agent uploaded the rest).
  const sessionsBy = Date.now() + 15_000;
  while (fleet.sessions < 5 && Date.now() < sessionsBy) await new Promise((r) => setTimeout(r, 20));
  expect(fleet.sessions).toBeGreaterThanOrEqual(5);
});
