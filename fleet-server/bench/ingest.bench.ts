// Ingest benchmark: readings per second stored through the HTTP and the WebSocket paths in batches
// of 500 (load from a second process), against a raw better-sqlite3 prepared insert of the same
// number of rows into the same table and indexes, in one transaction, in the same run.
// Each case runs --rounds times (default 3, 1 with --quick), the raw insert and the path back to
// back in every round; the figures are medians, and ratioToRaw is the median of the rounds' own
// ratios (this machine is shared: a neighbour slows both halves of a round alike, not all rounds).
// Run: npm run bench -w @brana/fleet-server -- ingest [--json] [--quick] [--case http|ws] [--rounds n]
//      [--records] [--gateways n] [--threads]
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToPem } from '@brana/protocol';
import { openFleetDatabase } from '../src/db/index.ts';
import { startFleetServer } from '../src/server.ts';
import { SimulatedGateway } from '../test/simulated-gateway.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
// --case http or --case ws runs one path only (for profiling one of them).
const caseArg = process.argv.indexOf('--case');
const cases = (['http', 'ws'] as const).filter(
  (c) => caseArg < 0 || process.argv[caseArg + 1]?.split(',').includes(c),
);
// --records sends readings as records instead of the columns the gateway agent sends.
const readingsAs = process.argv.includes('--records') ? 'records' : 'columns';
// --threads prints each round's CPU per server thread (Linux) to stderr.
const showThreads = process.argv.includes('--threads');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : quick ? 1 : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a whole number ≥ 1');
// --gateways n shares the batches out among n gateways, each with 8 in flight (default 1).
const gatewaysArg = process.argv.indexOf('--gateways');
const GATEWAYS = gatewaysArg >= 0 ? Number(process.argv[gatewaysArg + 1]) : 1;
const BATCH = 500;
const BATCHES = quick ? 60 : 400;
if (!Number.isInteger(GATEWAYS) || GATEWAYS < 1 || BATCHES % GATEWAYS !== 0)
  throw new Error(`--gateways takes a whole number ≥ 1 that divides ${BATCHES}`);
const ROWS = BATCH * BATCHES;

/** CPU seconds of each thread of this process (Linux /proc; empty elsewhere), by thread id. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      // utime and stime are fields 14 and 15, counted after the ')' closing the thread's name.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch {
    // not Linux
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Readings per second of wall time and per second of this process's CPU time. */
function rawRate(dir: string, name: string): { rate: number; cpuRate: number } {
  const db = openFleetDatabase(join(dir, `raw-${name}.db`));
  // As on the server's connection, where a worker thread checkpoints (src/db/checkpointer.ts): no
  // automatic checkpoint inside the timed transaction either.
  db.sqlite.pragma('wal_autocheckpoint = 0');
  const insert = db.sqlite.prepare(
    'INSERT INTO readings (gateway_num, boot_epoch, seq, channel_id, ts, value, quality) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const t0 = Date.UTC(2026, 0, 1);
  const run = db.sqlite.transaction(() => {
    for (let seq = 1; seq <= ROWS; seq++)
      insert.run(1, 1, seq, (seq % 32) + 1, t0 + Math.floor(seq / 32) * 10_000, seq * 0.01, 0);
  });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  run();
  const s = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  return { rate: ROWS / s, cpuRate: ROWS / ((cpu.user + cpu.system) / 1e6) };
}

async function pathRate(
  mode: 'http' | 'ws',
  dir: string,
  round: number,
): Promise<{ rate: number; cpuRate: number; clientCpuS: number; serverCpuS: number }> {
  const server = await startFleetServer({
    dbPath: join(dir, `${mode}-${round}.db`),
    port: 0,
    validateConfig: () => ({ ok: false, errors: [] }),
    app: { gatewayRateLimit: { perSecond: 1e6, burst: 1e6 } },
  });
  try {
    const gateways = [];
    for (let g = 0; g < GATEWAYS; g++) {
      const gw = new SimulatedGateway({ baseUrl: server.url });
      await gw.enrol(server.createClaimToken().token);
      gateways.push({
        gatewayId: gw.gatewayId!,
        serverPublicKey: gw.serverPublicKey!,
        privateKeyPem: privateKeyToPem(gw.key.privateKey),
        publicKey: gw.key.publicKey,
      });
    }
    const child = fork(new URL('./ingest-client.ts', import.meta.url));
    // Server CPU is counted from the client's start message, as the client's own clock.
    let cpu0 = process.cpuUsage();
    let threads0 = new Map<string, number>();
    const result = new Promise<{ seconds: number; cpuS: number }>((resolve, reject) => {
      child.on('message', (m: { starting?: true; seconds: number; cpuS: number }) => {
        if (m.starting) {
          cpu0 = process.cpuUsage();
          threads0 = threadCpu();
        } else resolve(m);
      });
      child.once('exit', (code) =>
        code ? reject(new Error(`ingest client exited with ${code}`)) : undefined,
      );
    });
    child.send({
      url: server.url,
      mode,
      gateways,
      bootEpoch: 1,
      batches: BATCHES / GATEWAYS,
      batchSize: BATCH,
      inFlight: 8, // the gateway agent keeps up to 8 batches unacked
      readingsAs,
    });
    const { seconds, cpuS: clientCpuS } = await result;
    const cpu = process.cpuUsage(cpu0);
    const serverCpuS = (cpu.user + cpu.system) / 1e6;
    if (showThreads) {
      // The main thread's id is the process id; of the others the busiest is the telemetry writer.
      const busy = [...threadCpu()]
        .map(([tid, s]) => ({ tid, s: s - (threads0.get(tid) ?? 0) }))
        .filter((t) => t.s > 0)
        .sort((a, b) => b.s - a.s);
      process.stderr.write(
        `${mode} round ${round + 1}: ${seconds.toFixed(2)} s; server CPU ${serverCpuS.toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}), client ${clientCpuS.toFixed(2)} s; threads: ${busy.map((t) => `${t.tid === String(process.pid) ? 'main' : t.tid} ${t.s.toFixed(2)}`).join(', ')}\n`,
      );
    }
    const stored = server.fleet.database.sqlite
      .prepare('SELECT count(*) FROM readings')
      .pluck()
      .get() as number;
    if (stored !== ROWS) throw new Error(`${mode}: stored ${stored} rows, expected ${ROWS}`);
    // Readings per second of server CPU: on a shared machine wall time mostly measures the neighbours.
    return { rate: ROWS / seconds, cpuRate: ROWS / serverCpuS, clientCpuS, serverCpuS };
  } finally {
    await server.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'brana-bench-ingest-'));
try {
  const rows: Record<string, unknown>[] = [];
  for (const mode of cases) {
    const rounds: { raw: { rate: number; cpuRate: number }; path: Awaited<ReturnType<typeof pathRate>> }[] =
      [];
    for (let i = 0; i < ROUNDS; i++) {
      // Raw measured right next to the path so machine load affects both alike.
      const raw = rawRate(dir, `${mode}-${i}`);
      rounds.push({ raw, path: await pathRate(mode, dir, i) });
    }
    const rate = median(rounds.map((r) => r.path.rate));
    const rawRateMedian = median(rounds.map((r) => r.raw.rate));
    const ratios = rounds.map((r) => r.path.rate / r.raw.rate);
    const cpuRate = median(rounds.map((r) => r.path.cpuRate));
    const rawCpuRate = median(rounds.map((r) => r.raw.cpuRate));
    rows.push({
      bench: 'ingest',
      case: mode,
      unit: 'readings/s',
      readings: ROWS,
      batchSize: BATCH,
      gateways: GATEWAYS,
      readingsAs,
      rounds: ROUNDS,
      readingsPerS: Math.round(rate),
      rawReadingsPerS: Math.round(rawRateMedian),
      ratioToRaw: Number(median(ratios).toFixed(3)),
      ratioMin: Number(Math.min(...ratios).toFixed(3)),
      ratioMax: Number(Math.max(...ratios).toFixed(3)),
      // The same ratio on CPU time (server process, all its threads, vs the raw loop), which the
      // neighbours on a shared machine barely move; and the load client's own CPU, spent on the
      // same cores.
      serverCpuReadingsPerS: Math.round(cpuRate),
      rawCpuReadingsPerS: Math.round(rawCpuRate),
      cpuRatioToRaw: Number((cpuRate / rawCpuRate).toFixed(3)),
      serverCpuS: Number(median(rounds.map((r) => r.path.serverCpuS)).toFixed(2)),
      clientCpuS: Number(median(rounds.map((r) => r.path.clientCpuS)).toFixed(2)),
      loadAverage: Number(loadavg()[0]!.toFixed(1)),
    });
  }
  if (json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    console.log(
      `ingest: ${ROWS} readings in batches of ${BATCH} (load from a second process, ${GATEWAYS} gateway(s) with 8 batches in flight each, readings as ${readingsAs}), median of ${ROUNDS} round(s)`,
    );
    console.table(rows.map(({ bench: _b, unit: _u, ...r }) => r));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
