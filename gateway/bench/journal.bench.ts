// Journal benchmark (issue 6). Run: npm run bench -w @brana/gateway -- [--json] [--quick]
//  commit: readings/s from a firmware link (real Unix socket, IPC frames) committed to the journal
//          (SQLite WAL, synchronous FULL) and acked back to the firmware.
//  drain:  one simulated day of backlog for a building with 8 meters (12 points each, polled every
//          30 s: 276,480 readings) uploaded to a real fleet server (startFleetServer, SQLite) over
//          the WebSocket, unthrottled, until the server acked all of it; meanwhile one live reading
//          every 100 ms, with its latency from commit to the server's store.
// Both cases run in one process with the fleet server, on the same 2 cores: a pessimistic setup.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIpcServer, RealClock, type SequencedRecord, validateGatewayConfig } from '@brana/firmware';
import { startFleetServer } from '@brana/fleet-server';
import { enrol, FleetLink, Journal, loadIdentity } from '../src/index.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const rows: Record<string, unknown>[] = [];
const rssMB = () => Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
const dir = mkdtempSync(join(tmpdir(), 'brana-bench-journal-'));

async function commitCase() {
  const journal = Journal.open({ path: join(dir, 'commit.db'), quotaBytes: 2 * 1024 ** 3 });
  const socketPath = join(dir, 'agent.sock');
  const total = quick ? 50_000 : 300_000;
  let committed = 0;
  let t0 = 0;
  let t1 = 0;
  let groups = 0;
  const ipc = await createIpcServer({
    socketPath,
    onBatch: async (records) => {
      if (t0 === 0) t0 = performance.now();
      journal.append(records);
      groups++;
      committed += records.length;
      // The ack goes out right after this resolves.
      if (committed >= total) t1 = performance.now();
    },
  });
  // The firmware side runs in its own process, as on a gateway.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '../test/firmware-stand-in.ts'), 'fieldbus'],
    {
      env: {
        ...process.env,
        BRANA_AGENT_SOCKET: socketPath,
        STAND_IN_COUNT: String(total),
        STAND_IN_RATE: '100000000',
        STAND_IN_EXIT_WHEN_DONE: '1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await new Promise((r) => child.once('exit', r));
  const s = (t1 - t0) / 1000;
  rows.push({
    bench: 'journal',
    case: 'commit',
    unit: 'readings/s',
    readings: committed,
    seconds: round(s),
    readingsPerS: Math.round(committed / s),
    recordsPerCommit: Math.round(committed / groups),
    rssMB: rssMB(),
  });
  await ipc.close();
  journal.close();
}

async function drainCase() {
  const fleet = await startFleetServer({
    dbPath: join(dir, 'fleet.db'),
    port: 0,
    validateConfig: (c) => validateGatewayConfig(c),
    log: { info() {}, warn() {}, error() {} } as never,
  });
  const claim = fleet.createClaimToken();
  const dataDir = join(dir, 'gw');
  await enrol({ dataDir, serverUrl: fleet.url, claimToken: claim.token });
  const journal = Journal.open({ path: join(dataDir, 'journal.db'), quotaBytes: 2 * 1024 ** 3 });
  const meters = 8;
  const points = 12;
  const samples = quick ? 720 : (24 * 3600) / 30;
  const dayStart = Date.now() - 24 * 3600 * 1000;
  let seq = 0;
  for (let s = 0; s < samples; s++) {
    const batch: SequencedRecord[] = [];
    for (let m = 0; m < meters; m++) {
      for (let p = 0; p < points; p++) {
        batch.push({
          source: 'fieldbus',
          bootEpoch: 1,
          seq: ++seq,
          record: {
            kind: 'reading',
            channel: `meter-${m}.p${p}`,
            atMs: dayStart + s * 30_000,
            value: s + p,
            quality: 'good',
          },
        });
      }
    }
    journal.append(batch);
  }
  const backlog = seq;
  const link = new FleetLink({
    identity: loadIdentity(dataDir),
    journal,
    clock: new RealClock(),
    running: () => null,
    onDesired: () => {},
    batchSize: 1000,
    backlogPerS: 10_000_000,
    tickMs: 20,
  });
  // Live readings: one every 100 ms; latency = from its commit in the journal to the server's ingest.
  const liveLatencies: number[] = [];
  fleet.fleet.bus.on('telemetry', (t: { readings: readonly { channel: string; ts: number }[] }) => {
    const now = Date.now();
    for (const r of t.readings) if (r.channel === 'live.powerW') liveLatencies.push(now - r.ts);
  });
  const t0 = performance.now();
  link.start();
  const live = setInterval(() => {
    journal.append([
      {
        source: 'rt',
        bootEpoch: 1,
        seq: ++seq,
        record: { kind: 'reading', channel: 'live.powerW', atMs: Date.now(), value: 1, quality: 'good' },
      },
    ]);
    link.nudge();
  }, 100);
  while (journal.firstId() !== 0 || link.stats().state !== 'online') {
    await new Promise((r) => setTimeout(r, 5));
    if (performance.now() - t0 > 600_000) throw new Error('drain did not finish in 10 minutes');
  }
  const s = (performance.now() - t0) / 1000;
  clearInterval(live);
  liveLatencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    round(
      liveLatencies[Math.min(liveLatencies.length - 1, Math.floor(q * liveLatencies.length))] ?? Number.NaN,
    );
  rows.push({
    bench: 'journal',
    case: 'drain',
    unit: 'readings/s',
    readings: backlog,
    seconds: round(s),
    readingsPerS: Math.round(backlog / s),
    liveReadings: liveLatencies.length,
    liveP50Ms: pct(0.5),
    liveMaxMs: pct(1),
    rssMB: rssMB(),
  });
  link.stop();
  journal.close();
  await fleet.close();
}

function round(x: number) {
  return Math.round(x * 100) / 100;
}

try {
  await commitCase();
  await drainCase();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  console.table(rows);
}
