// The brana-fleet binary as a user runs it: a separate process, a real database file.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// Each CLI call is a new Node process that loads tsx and the server (about 1 s of CPU); on a
// loaded 2-core CI machine one took 9 s of wall time and a test of three or four calls 18 s,
// so these tests get room far beyond the 30 s default.
const PROCESS_TEST_TIMEOUT_MS = 120_000;

const run = promisify(execFile);
const BIN = new URL('../bin/brana-fleet.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'brana-fleet-cli-'));
const db = join(dir, 'fleet.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('brana-fleet', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('prints help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('serve');
    expect(r.stdout).toContain('user');
  });

  it('creates the first admin with a one-time password that signs in', async () => {
    const r = await cli(['user', 'create', 'alena', '--admin', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const password = r.stdout.match(/one-time password: (\S+)/)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const again = await cli(['user', 'create', 'alena', '--admin'], { BRANA_FLEET_DB: db });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('brana-fleet: user alena exists; pick another name');

    const srv: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        srv.stdout!.on('data', (d) => {
          out += d;
          const m = out.match(/listening on (http:\/\/\S+)/);
          if (m) resolve(m[1]!);
        });
        srv.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const res = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alena', password }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { user: { role: string } }).user.role).toBe('admin');
    } finally {
      // Wait for it to exit, so it no longer holds the database when afterAll removes the folder.
      if (srv.exitCode === null && srv.signalCode === null) {
        const exited = new Promise((r) => srv.once('exit', r));
        srv.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('prints claim tokens, one per CSV row', async () => {
    const csv = join(dir, 'gateways.csv');
    writeFileSync(csv, 'name,tags\nsignal-1,traffic\nsignal-2,traffic\n');
    const r = await cli(['claim', 'import', csv, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(',')[0]),
    ).toStrictEqual(['signal-1', 'signal-2']);
  });

  it('answers bad input with one line and the fix, never a stack trace', async () => {
    const notDb = join(dir, 'not-a-db');
    writeFileSync(notDb, 'hello, I am a text file and not SQLite at all');
    // Four independent processes: started together rather than one after another.
    const [port, role, name, bad] = await Promise.all([
      cli(['serve', '--port', 'eighty']),
      cli(['user', 'create', 'x1', '--role', 'boss', '--db', db]),
      cli(['user', 'create', 'Bad Name', '--db', db]),
      cli(['user', 'create', 'x2', '--db', notDb]),
    ]);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('a port is a whole number');
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('use one of viewer, technician, fleetOperator, admin');
    expect(name.code).toBe(1);
    expect(name.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^brana-fleet: .*--db/);
    for (const r of [port, role, name, bad]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
