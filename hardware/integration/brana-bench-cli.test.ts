// The brana-bench command as a user runs it: starts a rig, prints endpoints, serves mbpoll, stops
// cleanly on Ctrl-C; bad input ends in one line with the fix and no stack trace.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RigEndpoints } from '../src/bench/rig/start-rig.ts';
import { mbpollFloats } from './mbpoll-support.ts';

const run = promisify(execFile);
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'brana-bench.mjs');
const dir = mkdtempSync(join(tmpdir(), 'brana-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rigFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function bench(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`brana-bench exited ${code} before printing endpoints`)));
  });
}

const GOOD = `name: cli-test
buses:
  - { type: rtu, name: ttyCLI0, baud: 9600, devices: [{ profile: eastron-sdm120, unit: 5 }] }
  - { type: tcp, name: tcp0, port: 0, devices: [{ profile: eastron-sdm630, unit: 1 }] }
wires:
  lines: [sos.button]
`;

// Each case spawns the CLI through tsx (seconds of start-up on a busy 2-core machine), so the cases
// get a generous timeout; a case that fails part-way must not leave its rig running.
const children = new Set<ChildProcess>();
afterEach(() => {
  // Each rig runs in its own process group (detached), so a kill here also ends its socat, which a
  // SIGKILL of brana-bench alone would leave running.
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
  }
  children.clear();
});

describe('brana-bench', { timeout: 120_000 }, () => {
  it('up: prints endpoints, serves mbpoll over TCP and RTU, stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'up', rigFile('good.yaml', GOOD), '--dir', join(dir, 'run'), '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    children.add(child);
    const endpoints = JSON.parse(await firstLine(child)) as RigEndpoints & { rig: string };
    expect(endpoints.rig).toBe('cli-test');
    expect(endpoints.rtu[0]?.path).toBe(join(dir, 'run', 'ttyCLI0'));
    expect(endpoints.wires.lines).toContain('sos.button');
    const tcp = endpoints.tcp[0]!;
    const viaTcp = await mbpollFloats({ tcp }, { unit: 1, ref: 1, count: 1 });
    const voltage = viaTcp.values.get(1);
    expect(voltage).toBeGreaterThanOrEqual(225);
    expect(voltage).toBeLessThanOrEqual(240);
    const viaRtu = await mbpollFloats(
      { rtu: { path: endpoints.rtu[0]!.path, baud: 9600 } },
      { unit: 5, ref: 1, count: 1 },
    );
    expect(viaRtu.values.get(1)).toBeGreaterThan(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('console: faults on demand, wire levels and served values while running; stop', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'up', rigFile('console.yaml', GOOD), '--dir', join(dir, 'console'), '--json'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
    children.add(child);
    const endpoints = JSON.parse(await firstLine(child)) as RigEndpoints;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const said = async (pattern: RegExp): Promise<void> => {
      const end = Date.now() + 5000;
      while (!pattern.test(out)) {
        if (Date.now() > end) throw new Error(`no ${pattern} in: ${out}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const tcp = endpoints.tcp[0]!;
    child.stdin?.write('fault tcp0 1 exception 6\n');
    await said(/ok: the next request to tcp0 unit 1 gets exception/);
    const failed = await mbpollFloats({ tcp }, { unit: 1, ref: 1, count: 1 });
    expect(failed.ok).toBe(false);
    expect(failed.output).toMatch(/busy/i); // exception 6: slave device busy
    child.stdin?.write('values tcp0 1\n');
    await said(/voltageL1V = \d+/);
    child.stdin?.write('set sos.button 1\nbogus\n');
    await said(/ok: sos\.button = 1/);
    await said(/error: unknown command "bogus"; type help/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin?.write('stop\n');
    expect(await exited).toBe(0);
  });

  it('a bad rig file: one line per issue with file, line, path and fix; exit 1; no stack trace', async () => {
    const bad = rigFile(
      'bad.yaml',
      'name: x\nbuses:\n  - { type: rtu, name: ttyX, devices: [{ profile: sdm-630, unit: 1 }] }\n',
    );
    const r = await bench(['up', bad, '--dir', join(dir, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^brana-bench: .*bad\.yaml:3:\d+: buses\[0\]\.devices\[0\]\.profile: no device profile "sdm-630"\. Fix: use one of: /,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('socat missing: says how to install it', async () => {
    const r = await bench(['up', rigFile('rtu.yaml', GOOD), '--dir', join(dir, 'nosocat')], {
      ...process.env,
      PATH: '/nonexistent',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'brana-bench: socat is not installed. Fix: install it: sudo apt-get install socat',
    );
  });

  it('a taken TCP port: names it and the fix', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const rig = rigFile(
        'taken.yaml',
        `name: taken\nbuses:\n  - { type: tcp, name: t, port: ${port}, devices: [{ profile: eastron-sdm630, unit: 1 }] }\n`,
      );
      const r = await bench(['up', rig, '--dir', join(dir, 'taken')]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `brana-bench: TCP port ${port} on 127.0.0.1 is already in use. Fix: stop what uses it, or set port: 0 in the rig to take any free port`,
      );
    } finally {
      blocker.close();
    }
  });

  it('profiles lists the catalogue; usage errors exit 2', async () => {
    const r = await bench(['profiles']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/eastron-sdm630/);
    expect(r.stdout).toMatch(/\d+ profiles ok, 0 with errors/);
    expect((await bench(['up'])).code).toBe(2);
    expect((await bench(['up', 'x.yaml', '--speed', 'fast'])).code).toBe(2);
  });

  it('--profiles adds a site directory: its profiles are listed and usable, a bad one is named', async () => {
    const site = join(dir, 'site');
    mkdirSync(site);
    const profile = (id: string, address: string) =>
      `id: ${id}\nvendor: Site\nmodel: S1\ndocs: sheet v1\nkind: modbus\ndefaults: { functionCode: 4, type: f32 }\npoints:\n  - { key: powerW, address: ${address}, range: [0, 10000], sim: { constant: 5 } }\n`;
    writeFileSync(join(site, 'pump-meter.yaml'), profile('pump-meter', '0'));
    const listed = await bench(['profiles', '--profiles', site]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/modbus\s+pump-meter\s+Site S1 \(1 points\)/);
    const rig = rigFile(
      'site.yaml',
      'name: site\nbuses:\n  - { type: tcp, name: t, port: 0, devices: [{ profile: pump-meter, unit: 1 }] }\n',
    );
    expect((await bench(['check', rig])).code).toBe(1);
    expect((await bench(['check', rig, '--profiles', site])).stdout).toMatch(/site\.yaml: ok/);
    writeFileSync(join(site, 'odd-meter.yaml'), profile('odd-meter', 'twelve'));
    const bad = await bench(['profiles', '--profiles', site]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /brana-bench: .*site\/odd-meter\.yaml:8:\d+: points\[0\]\.address: expected number, got "twelve"\. Fix: /,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
