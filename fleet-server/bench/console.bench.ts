// Console benchmark: every page's load time (full HTTP response from a real server) with a year of
// quarter-hour data for 50 buildings in the SQLite database: electricity and water counters in
// narrow rows plus their 15 min / 1 h / 1 day rollups, and a year of preemption events at 5
// intersections. Goal: p95 < 300 ms per page. firstMs is the cold first load of each page.
// Run: npm run bench -w @brana/fleet-server -- console [--json] [--quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { createUser, login } from '../src/auth/index.ts';
import { createConfigDocument } from '../src/configs/index.ts';
import { createGroup, createSite } from '../src/devices/index.ts';
import { createClaimToken } from '../src/enrolment/index.ts';
import { startFleetServer } from '../src/server.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
/** Keep the seeded database for a look with sqlite3 (its path is printed). */
const keep = process.argv.includes('--keep');
const BUILDINGS = 50;
const INTERSECTIONS = 5;
const DAYS = quick ? 30 : 365;
const RUNS = quick ? 10 : 30;
const Q = 900_000;
const DAY = 86_400_000;

function seed(
  sqlite: Database.Database,
  siteIds: string[],
  crossingIds: string[],
  groupId: string,
  end: number,
) {
  const start = end - DAYS * DAY;
  const gw = sqlite.prepare(
    `INSERT INTO gateways (id, num, name, site_id, public_key, status, enrolled_at, last_seen_at, running_version, desired_version, apply_state)
     VALUES (?, ?, ?, ?, ?, 'active', ?, ?, 1, 1, 'applied')`,
  );
  const member = sqlite.prepare('INSERT INTO gateway_groups (gateway_id, group_id) VALUES (?, ?)');
  const channel = sqlite.prepare('INSERT INTO channels (gateway_num, key, unit, kind) VALUES (?, ?, ?, ?)');
  const reading = sqlite.prepare(
    'INSERT INTO readings (gateway_num, boot_epoch, seq, channel_id, ts, value, quality) VALUES (?, 1, ?, ?, ?, ?, 0)',
  );
  const rollup = sqlite.prepare(
    `INSERT INTO rollups (channel_id, bucket_s, bucket_start, count, sum, min, max, first_ts, first, last_ts, last)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const event = sqlite.prepare(
    `INSERT INTO events (gateway_num, boot_epoch, seq, ts, kind, severity, data) VALUES (?, 1, ?, ?, ?, 'info', ?)`,
  );
  let rows = 0;
  const run = sqlite.transaction(() => {
    const all = [
      ...siteIds.map((s) => ({ site: s, building: true })),
      ...crossingIds.map((s) => ({ site: s, building: false })),
    ];
    all.forEach((g, i) => {
      const num = i + 1;
      const id = `gw_bench_${num}`;
      gw.run(id, num, `${g.building ? 'building' : 'crossing'}-${num}`, g.site, `key-${num}`, start, end);
      member.run(id, groupId);
      let seq = 0;
      if (!g.building) {
        // About ten preemptions a day, each with its release, and a rejection.
        for (let d = 0; d < DAYS; d++) {
          for (let k = 0; k < 10; k++) {
            const ts = start + d * DAY + k * 8_640_000 + num * 1000;
            const role = k % 4 === 0 ? 'ambulance' : 'transit';
            event.run(
              num,
              ++seq,
              ts,
              'preemption.asserted',
              JSON.stringify({ approach: k % 4, role, requestedAt: ts - 150 }),
            );
            event.run(
              num,
              ++seq,
              ts + 25_000,
              'preemption.released',
              JSON.stringify({ approach: k % 4, reason: 'cancel' }),
            );
            rows += 2;
          }
          event.run(
            num,
            ++seq,
            start + d * DAY + 3_600_000,
            'preemption.rejected',
            JSON.stringify({ reason: 'stale' }),
          );
          rows++;
        }
        return;
      }
      for (const [key, unit, perQ] of [
        ['meter.energyImportKWh', 'kWh', 2 + (num % 7)],
        ['water.volumeM3', 'm3', 0.01 + (num % 5) * 0.002],
      ] as const) {
        const ch = Number(channel.run(num, key, unit, 'counter').lastInsertRowid);
        let value = 1000;
        let hour: number[] = [];
        let day: number[] = [];
        let hourStart = start;
        let dayStart = start;
        const flush = (bucketS: number, s: number, vs: number[], firstTs: number, lastTs: number) => {
          if (vs.length === 0) return;
          const sum = vs.reduce((a, b) => a + b, 0);
          rollup.run(
            ch,
            bucketS,
            s,
            vs.length,
            sum,
            vs[0],
            vs[vs.length - 1],
            firstTs,
            vs[0],
            lastTs,
            vs[vs.length - 1],
          );
          rows++;
        };
        for (let ts = start; ts < end; ts += Q) {
          const hourOfDay = Math.floor((ts % DAY) / 3_600_000);
          // Day-time load, a little at night (water: a leak in every seventh building).
          value += perQ * (hourOfDay >= 6 && hourOfDay < 20 ? 1 : unit === 'm3' && num % 7 !== 0 ? 0 : 0.2);
          reading.run(num, ++seq, ch, ts, value);
          rollup.run(ch, 900, ts, 1, value, value, value, ts, value, ts, value);
          rows += 2;
          if (ts - hourStart >= 3_600_000) {
            flush(3600, hourStart, hour, hourStart, ts - Q);
            hour = [];
            hourStart = ts;
          }
          if (ts - dayStart >= DAY) {
            flush(86400, dayStart, day, dayStart, ts - Q);
            day = [];
            dayStart = ts;
          }
          hour.push(value);
          day.push(value);
        }
        flush(3600, hourStart, hour, hourStart, end - Q);
        flush(86400, dayStart, day, dayStart, end - Q);
      }
    });
  });
  run();
  return rows;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const dir = mkdtempSync(join(tmpdir(), 'brana-bench-console-'));
const server = await startFleetServer({
  dbPath: join(dir, 'fleet.db'),
  port: 0,
  validateConfig: (doc) => ({ ok: true, config: doc }),
  app: { rateLimit: { perSecond: 1e6, burst: 1e6 } },
  console: true,
});
try {
  const { fleet } = server;
  const db = fleet.database.db;
  // Align to a quarter-hour in the past so "today" pages have data up to now.
  const end = Math.floor(fleet.now() / Q) * Q;
  const sites = Array.from(
    { length: BUILDINGS },
    (_, i) => createSite(db, { name: `Building ${i + 1}`, kind: 'building' }, 'system').id,
  );
  const crossings = Array.from(
    { length: INTERSECTIONS },
    (_, i) => createSite(db, { name: `Crossing ${i + 1}`, kind: 'intersection' }, 'system').id,
  );
  const group = createGroup(db, { name: 'all' }, 'system');
  const t0 = performance.now();
  const rows = seed(fleet.database.sqlite, sites, crossings, group.id, end);
  const seedS = (performance.now() - t0) / 1000;
  const admin = await createUser(
    db,
    { username: 'bench', role: 'admin', password: 'correct horse battery' },
    'system',
  );
  const deps = { validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey };
  createConfigDocument(db, deps, { config: { name: 'v1', telemetry: { uploadIntervalS: 5 } } }, admin.id);
  createConfigDocument(db, deps, { config: { name: 'v2', telemetry: { uploadIntervalS: 10 } } }, admin.id);
  const rollout = fleet.rollouts.create(
    { configVersion: 2, target: { group: group.id }, stages: [10, 100] },
    admin.id,
  );
  for (let i = 0; i < 20; i++)
    createClaimToken(db, { gatewayName: `spare-${i}`, siteId: sites[i] }, admin.id);
  const session = await login(db, 'bench', 'correct horse battery');
  if (!session) throw new Error('bench user cannot sign in');
  const cookie = `brana_session=${session.cookie}`;

  const pages: [string, string][] = [
    ['login', '/console/login'],
    ['fleet', '/console/'],
    ['gateway-24h', '/console/gateways/gw_bench_1?channel=meter.energyImportKWh&range=24h'],
    ['gateway-year', '/console/gateways/gw_bench_1?channel=meter.energyImportKWh&range=365d'],
    ['energy-quarter-hour', '/console/energy?interval=15m'],
    ['energy-day', '/console/energy?interval=1d'],
    ['energy-month', '/console/energy?interval=1mo'],
    ['energy-csv-day', '/console/energy.csv?interval=1d'],
    ['intersections', '/console/intersections'],
    ['configs', '/console/configs'],
    ['config-diff', '/console/configs/diff?a=1&b=2'],
    ['rollouts', '/console/rollouts'],
    ['rollout', `/console/rollouts/${rollout.id}`],
    ['claims', '/console/claims'],
    ['audit', '/console/audit'],
  ];
  const results: Record<string, unknown>[] = [];
  for (const [name, path] of pages) {
    const times: number[] = [];
    let bytes = 0;
    let firstMs = 0;
    for (let i = 0; i < RUNS + 2; i++) {
      const s = performance.now();
      const res = await fetch(server.url + path, { headers: { cookie, 'accept-language': 'cs' } });
      const body = await res.text();
      const ms = performance.now() - s;
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}: ${body.slice(0, 300)}`);
      bytes = body.length;
      if (i === 0) firstMs = ms;
      if (i >= 2) times.push(ms); // the first two warm the caches and the JIT
    }
    times.sort((a, b) => a - b);
    results.push({
      bench: 'console',
      case: name,
      unit: 'ms',
      runs: RUNS,
      p50Ms: Number(percentile(times, 50).toFixed(1)),
      p95Ms: Number(percentile(times, 95).toFixed(1)),
      // The first load after start: the energy pages read every closed bucket from SQLite once.
      firstMs: Number(firstMs.toFixed(1)),
      kB: Math.round(bytes / 1024),
    });
  }
  if (json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const readings = fleet.database.sqlite.prepare('SELECT count(*) FROM readings').pluck().get() as number;
    console.log(
      `console: ${BUILDINGS} buildings × ${DAYS} days of quarter-hours (${readings} readings, ${rows} rows with rollups and events, seeded in ${seedS.toFixed(1)} s); ${RUNS} loads per page; goal p95 < 300 ms`,
    );
    console.table(results.map(({ bench: _b, unit: _u, ...r }) => r));
  }
} finally {
  await server.close();
  if (keep) console.error(`database kept: ${join(dir, 'fleet.db')}`);
  else rmSync(dir, { recursive: true, force: true });
}
