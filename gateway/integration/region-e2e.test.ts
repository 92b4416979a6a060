// End to end through `npm start` (scripts/start.ts) as a user runs it, shortened: a fleet server on
// SQLite, the bench rigs, an intersection gateway and a school gateway with their firmware
// processes. Checks enrolment, the rollout, readings and a preemption reaching the fleet server, a
// forged request rejected, a clean Ctrl-C, and after a restart that nothing was lost or duplicated.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..', '..');

interface Run {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function start(args: string[]): Run {
  // Its own process group, so a failing test can stop it and everything it started. tsx is loaded
  // into node itself: the tsx CLI wrapper SIGKILLs a child that does not acknowledge a signal
  // within 30 ms, which a busy machine can miss, cutting the orderly shutdown short.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BRANA_DATA: '', NO_COLOR: '1' },
  });
  const out: string[] = [];
  const collect = (chunk: Buffer) => out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out, exited };
}

async function until<T>(
  what: string,
  run: Run | null,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (run && run.child.exitCode !== null) {
      throw new Error(
        `npm start exited (${run.child.exitCode}) while waiting for ${what}:\n${run.out.slice(-30).join('\n')}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n${run?.out.slice(-30).join('\n') ?? ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function line(run: Run, pattern: RegExp): RegExpMatchArray | undefined {
  for (const l of run.out) {
    const m = l.match(pattern);
    if (m) return m;
  }
  return undefined;
}

/** Ctrl-C in a terminal signals the whole process group; `kill <pid>` signals npm start alone. */
async function stop(run: Run, how: 'ctrl-c' | 'sigterm'): Promise<number | null> {
  if (how === 'ctrl-c') process.kill(-run.child.pid!, 'SIGINT');
  else process.kill(run.child.pid!, 'SIGTERM');
  return Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]).then(
    (code) => {
      if (code === 'hung')
        throw new Error(`npm start did not stop within 30 s of Ctrl-C:\n${run.out.slice(-20).join('\n')}`);
      return code;
    },
  );
}

/** Processes whose command line names `text` (the data folder: firmware, socat, npm start itself). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(text)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface GatewayItem {
  id: string;
  tags: string[];
  online: boolean;
  runningVersion: number | null;
  desiredVersion: number | null;
}

describe('npm start: a simulated region end to end', () => {
  const data = mkdtempSync(join(tmpdir(), 'brana-region-e2e-'));
  const runs: Run[] = [];

  afterAll(async () => {
    for (const r of runs) {
      if (r.child.exitCode === null && r.child.pid) {
        try {
          process.kill(-r.child.pid, 'SIGKILL');
        } catch {}
      }
    }
    rmSync(data, { recursive: true, force: true });
  });

  it('enrols, rolls out, reports, preempts, rejects a forgery, stops cleanly and restarts without loss', async () => {
    const port = await freePort();
    const args = [
      '--data',
      data,
      '--port',
      String(port),
      '--gateway-port',
      '0',
      '--buildings',
      '1',
      '--no-view',
      '--trial',
      '3',
      '--ambulance-every',
      '6',
      '--forged-every',
      '5',
      '--bus-every',
      '3600',
    ];
    const base = `http://127.0.0.1:${port}`;

    // ------------------------------------------------------------ first start
    const first = start(args);
    runs.push(first);
    const password = (
      await until('the first admin password', first, 60_000, () => line(first, /one-time password: (\S+)/))
    )[1]!;
    await until('the region to be up', first, 90_000, () => line(first, /region is up/));
    // The view names the API and the web console, and both answer.
    expect(line(first, /fleet server: (\S+)/)?.[1]).toBe(`${base}/api/v1`);
    const consoleAt = line(first, /console: (http\S+)/)?.[1];
    expect(consoleAt).toBe(`${base}/console/`);
    const page = await fetch(consoleAt!, { redirect: 'manual' });
    expect(page.status).toBeLessThan(400);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    // Enrolled with claim tokens, and the config came through a rollout that the gateways applied.
    const gateways = await until(
      'both gateways online running their rolled-out config',
      first,
      60_000,
      async () => {
        const list = await api<GatewayItem[]>('/api/v1/gateways');
        const ok =
          list.length === 2 &&
          list.every((g) => g.online && g.runningVersion !== null && g.runningVersion === g.desiredVersion);
        return ok ? list : undefined;
      },
    );
    const school = gateways.find((g) => g.tags.includes('site-school'))!;
    const intersection = gateways.find((g) => g.tags.includes('site-intersection'))!;
    expect(school).toBeDefined();
    expect(intersection).toBeDefined();
    const rollouts = await api<{ state: string; counts: { applied: number } }[]>('/api/v1/rollouts');
    expect(rollouts).toHaveLength(2);
    expect(rollouts.every((r) => r.state === 'completed' && r.counts.applied === 1)).toBe(true);

    // Readings from the school's meters (fieldbus over the RTU pty) reach the fleet server.
    const channels = await until('school readings at the fleet server', first, 60_000, async () => {
      const c = await api<{ channel: string }[]>(`/api/v1/gateways/${school.id}/channels`);
      return c.length >= 5 ? c : undefined;
    });
    expect(channels.map((c) => c.channel).join(' ')).toMatch(/main-meter\./);

    // An ambulance run asserts a relay and the event reaches the fleet; a forgery is refused.
    const events = (kind: string) =>
      api<{ kind: string; data: Record<string, unknown> }[]>(
        `/api/v1/events?kind=${kind}&gatewayId=${intersection.id}&from=0&to=${Date.now() + 3_600_000}`,
      );
    const asserted = await until('a preemption at the fleet server', first, 90_000, async () => {
      const e = await events('preemption.asserted');
      return e.length > 0 ? e : undefined;
    });
    expect(asserted[0]!.data.approach).toMatch(/^(north|east|south|west)$/);
    const rejected = await until('a rejected forged request at the fleet server', first, 60_000, async () => {
      const e = await events('preemption.rejected');
      return e.length > 0 ? e : undefined;
    });
    expect(String(rejected[0]!.data.reason)).toMatch(/\w+/);

    // Ctrl-C stops everything: exit code 0 and no process of the group left.
    expect(await stop(first, 'ctrl-c')).toBe(0);
    await until('every process of the first start to end', null, 10_000, () => !groupAlive(first.child.pid!));
    // Nothing it started outlives it, in its process group or not (socat, firmware processes).
    await until('no process left that uses the data folder', null, 10_000, () =>
      processesMentioning(data).length === 0 ? true : undefined,
    ).catch(() => {
      throw new Error(`left running: ${processesMentioning(data).join('; ')}`);
    });

    // ------------------------------------------------------------ second start, same data
    const second = start(args);
    runs.push(second);
    await until('the region to be up again', second, 90_000, () => line(second, /region is up/));
    expect(line(second, /one-time password/)).toBeUndefined();
    const db0 = new Database(join(data, 'fleet', 'fleet.db'), { readonly: true });
    const countsAtRestart = db0
      .prepare('SELECT (SELECT count(*) FROM readings) AS r, (SELECT count(*) FROM events) AS e')
      .get() as {
      r: number;
      e: number;
    };
    db0.close();
    await until('both gateways back online with fresh readings', second, 60_000, async () => {
      const list = await api<GatewayItem[]>('/api/v1/gateways').catch(async () => {
        // Sessions live in the fleet database, so the admin's cookie still works after a restart.
        throw new Error('the admin session did not survive the restart');
      });
      if (!(list.length === 2 && list.every((g) => g.online))) return undefined;
      const db = new Database(join(data, 'fleet', 'fleet.db'), { readonly: true });
      const now = db.prepare('SELECT count(*) AS r FROM readings').get() as { r: number };
      db.close();
      return now.r > countsAtRestart.r + 20 ? true : undefined;
    });
    // SIGTERM to npm start alone: it takes its gateways, firmware processes and rigs down itself.
    expect(await stop(second, 'sigterm')).toBe(0);
    await until(
      'every process of the second start to end',
      null,
      10_000,
      () => !groupAlive(second.child.pid!),
    );
    // Nothing it started outlives it, in its process group or not (socat, firmware processes).
    await until('no process left that uses the data folder', null, 10_000, () =>
      processesMentioning(data).length === 0 ? true : undefined,
    ).catch(() => {
      throw new Error(`left running: ${processesMentioning(data).join('; ')}`);
    });

    // An orderly stop releases the data folder.
    expect(existsSync(join(data, 'start.lock'))).toBe(false);

    // ------------------------------------------------------------ nothing lost, nothing duplicated
    const db = new Database(join(data, 'fleet', 'fleet.db'), { readonly: true });
    try {
      const gatewayCount = db.prepare('SELECT count(*) AS n FROM gateways').get() as { n: number };
      expect(gatewayCount.n).toBe(2); // no second enrolment
      const configCount = db.prepare('SELECT count(*) AS n FROM config_documents').get() as { n: number };
      expect(configCount.n).toBe(2); // an unchanged region rolls nothing out again
      const final = db
        .prepare('SELECT (SELECT count(*) FROM readings) AS r, (SELECT count(*) FROM events) AS e')
        .get() as {
        r: number;
        e: number;
      };
      expect(final.r).toBeGreaterThan(countsAtRestart.r);
      expect(final.e).toBeGreaterThanOrEqual(countsAtRestart.e);
      // Readings and events share one sequence per gateway and boot epoch: every epoch must be
      // 1..max without a hole (nothing lost on the way) and each record stored once.
      const epochs = db
        .prepare(
          `SELECT gateway_num AS g, boot_epoch AS b, count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi
           FROM (SELECT gateway_num, boot_epoch, seq FROM readings UNION ALL SELECT gateway_num, boot_epoch, seq FROM events)
           GROUP BY gateway_num, boot_epoch`,
        )
        .all() as { g: number; b: number; n: number; d: number; lo: number; hi: number }[];
      expect(epochs.length).toBeGreaterThanOrEqual(2);
      for (const e of epochs) {
        expect({ ...e, duplicates: e.n - e.d }).toMatchObject({ duplicates: 0 });
        expect({ ...e, holes: e.hi - e.lo + 1 - e.d, lo: e.lo }).toMatchObject({ holes: 0, lo: 1 });
      }
    } finally {
      db.close();
    }
  }, 300_000);
});

describe('npm start: clear one-line errors', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function failing(args: string[]): Promise<{ code: number | null; lines: string[] }> {
    const run = start(args);
    const code = await Promise.race([
      run.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000)),
    ]);
    if (code === 'hung') {
      process.kill(-run.child.pid!, 'SIGKILL');
      throw new Error(`npm start did not exit:\n${run.out.join('\n')}`);
    }
    return { code, lines: run.out.filter((l) => !l.startsWith('npm start: bringing up')) };
  }

  it('a taken port and a data folder of another version each get one line with the fix', async () => {
    const data = mkdtempSync(join(tmpdir(), 'brana-region-err-'));
    dirs.push(data);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await failing(['--data', data, '--port', String(port), '--no-view']);
      expect(r.code).toBe(1);
      expect(r.lines).toEqual([
        expect.stringMatching(
          new RegExp(`^npm start: port ${port} on 127\\.0\\.0\\.1 \\(fleet server\\) is taken.*Fix: `),
        ),
      ]);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
    writeFileSync(join(data, 'brana-region.json'), JSON.stringify({ format: 99, software: 'brana 9.9.9' }));
    const v = await failing(['--data', data, '--port', '0', '--no-view']);
    expect(v.code).toBe(1);
    expect(v.lines).toEqual([
      expect.stringMatching(/^npm start: data folder .* belongs to a newer version \(brana 9\.9\.9.*Fix: /),
    ]);
    expect(v.lines.join('\n')).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  }, 120_000);
});
