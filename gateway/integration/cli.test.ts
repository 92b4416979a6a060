// The brana-gateway binary as a user runs it: enrol, run, status over the local API, SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { issueLocalApiToken } from '../src/local-api/index.ts';
import { type FakeFleet, startFakeFleet } from '../test/fake-fleet.ts';

const bin = join(import.meta.dirname, '../bin/brana-gateway.mjs');

/** Runs the binary to its end without blocking the event loop (the fleet server lives in this process). */
function runBin(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
let dir: string;
let fleet: FakeFleet;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-cli-'));
  fleet = await startFakeFleet();
});
afterEach(async () => {
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

it('enrols, runs, serves its status, and stops on SIGTERM', async () => {
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `dataDir: ./data\nserver: ${fleet.url}\nlocalApi:\n  port: 0\nfirmware:\n  supervise: false\n`,
  );
  const e = await runBin(['enrol', '--server', fleet.url, '--token', 'claim-token-0001', '--config', config]);
  expect(e.stderr).toBe('');
  expect(e.stdout).toMatch(/^enrolled as gw_\S+; server key pinned/);
  expect(e.status).toBe(0);

  const again = await runBin([
    'enrol',
    '--server',
    fleet.url,
    '--token',
    'claim-token-0001',
    '--config',
    config,
  ]);
  expect(again.status).toBe(1);
  expect(again.stderr).toMatch(/^brana-gateway: enrolment: the server refused the claim token .*Fix: .*\n$/);
  expect(again.stderr).not.toMatch(/\n\s+at /);

  const run = spawn(process.execPath, [bin, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no running line: ${buf}`)), 20_000);
    run.stderr.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = buf.split('\n').find((l) => l.includes('running as'));
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
  });
  const url = /local API (\S+),/.exec(line)?.[1];
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const token = issueLocalApiToken(join(dir, 'data'), 'technician', ['read']);
  const status = (await (
    await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as {
    gatewayId: string;
    fleet: { state: string };
  };
  expect(status.gatewayId).toMatch(/^gw_/);
  const exit = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
  run.kill('SIGTERM');
  expect(await exit).toBe(0);
});

it('a bad config file is one line naming the file, the path and the fix, exit 2', async () => {
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, 'dataDir: ./data\nfirmware:\n  rt:\n    args: [rt]\n');
  const r = await runBin(['run', '--config', config]);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(
    `brana-gateway: ${config}: firmware.rt.command: Invalid input: expected string, received undefined. Fix: correct firmware.rt.command (see gateway/README.md)\n`,
  );
});

it('node-red public-key makes the credentials key once; node-red credentials says when there is none yet', async () => {
  const first = await runBin(['node-red', 'public-key', '--data-dir', dir]);
  expect(first.status).toBe(0);
  expect(first.stdout).toMatch(/^publicKey: [A-Za-z0-9_-]{43}\nkeyId: [A-Za-z0-9_-]{22}\n$/);
  expect((await runBin(['node-red', 'public-key', '--data-dir', dir])).stdout).toBe(first.stdout);

  const none = await runBin(['node-red', 'credentials', '--data-dir', dir]);
  expect(none.status).toBe(2);
  expect(none.stderr).toBe(
    `brana-gateway: ${join(dir, 'node-red/admin-password')}: cannot be read (ENOENT). Fix: run this as the agent user, after the agent started Node-RED once\n`,
  );
});
