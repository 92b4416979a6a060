// The telemetry writer's thread (see writer.ts): its own connection to the server's database and
// a TelemetryStore on it. Batches are stored in the order they arrive, those queued during a
// commit together in the next one; gateways' last-seen times in one transaction per turn; on
// 'stop' it answers every batch it was given, then closes.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { WriteGate } from '../write-gate/index.ts';
import { TelemetryStore } from './ingest.ts';
import { setLastSeen } from './last-seen.ts';
import type { WriteReply, WriteRequest, WriterControl, WriterWorkerData } from './writer.ts';

const { dbPath, autoCheckpoint, gate: gateBuffer } = (workerData as { data: WriterWorkerData }).data;
const gate = gateBuffer ? new WriteGate(gateBuffer) : null;
const port = parentPort!;
const sqlite = new Database(dbPath);
// As the event loop's connection (db/index.ts), without migrating: the server did that first.
sqlite.pragma('synchronous = NORMAL');
sqlite.pragma('foreign_keys = ON');
sqlite.pragma('busy_timeout = 5000');
const setAutoCheckpoint = (on: boolean) => sqlite.pragma(`wal_autocheckpoint = ${on ? 1000 : 0}`);
setAutoCheckpoint(autoCheckpoint);
// The event loop's writes go first: no transaction begins while one runs (write-gate/write-gate.ts).
const store = new TelemetryStore(sqlite, gate ? { beforeTransaction: () => gate.waitClear() } : {});
const open = new Set<Promise<void>>();

let seen = new Map<string, number>();
const writeSeen = sqlite.transaction((entries: Map<string, number>) => {
  for (const [id, at] of entries) setLastSeen(sqlite, id, at);
});
function flushSeen(): void {
  const entries = seen;
  seen = new Map();
  try {
    gate?.waitClear();
    writeSeen.immediate(entries);
  } catch {
    // A last-seen time is advisory; the next batch of that gateway sets it again.
  }
}

port.on('message', (m: WriteRequest | WriterControl) => {
  if (m === 'stop') {
    void Promise.allSettled([...open]).then(() => {
      if (seen.size > 0) flushSeen();
      sqlite.close();
      port.close();
    });
    return;
  }
  if ('autoCheckpoint' in m) {
    setAutoCheckpoint(m.autoCheckpoint);
    return;
  }
  if (m.seen !== undefined) {
    if (seen.size === 0) setImmediate(flushSeen);
    seen.set(m.seen, m.now);
  }
  const done = store
    .ingestGrouped(m.gatewayNum, { readings: m.columns, events: m.events }, m.now)
    .then(
      (ack) => port.postMessage({ id: m.id, ack } satisfies WriteReply),
      (error: unknown) =>
        port.postMessage({
          id: m.id,
          error: String((error as Error)?.message ?? error),
        } satisfies WriteReply),
    )
    .finally(() => open.delete(done));
  open.add(done);
});
