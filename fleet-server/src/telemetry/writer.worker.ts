// The telemetry writer's thread (see writer.ts): its own connection to the server's database and
// a TelemetryStore on it. Batches are stored in the order they arrive, those queued during a
// commit together in the next one; on 'stop' it answers every batch it was given, then closes.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { toReadings } from './batch-decoder.ts';
import { TelemetryStore } from './ingest.ts';
import type { WriteReply, WriteRequest, WriterWorkerData } from './writer.ts';

const { dbPath } = (workerData as { data: WriterWorkerData }).data;
const port = parentPort!;
const sqlite = new Database(dbPath);
// As the event loop's connection (db/index.ts), without migrating: the server did that first.
sqlite.pragma('synchronous = NORMAL');
sqlite.pragma('foreign_keys = ON');
sqlite.pragma('busy_timeout = 5000');
// The server's checkpoint thread (db/checkpointer.ts) checkpoints; a commit here never does.
sqlite.pragma('wal_autocheckpoint = 0');
const store = new TelemetryStore(sqlite);
const open = new Set<Promise<void>>();

port.on('message', (m: WriteRequest | 'stop') => {
  if (m === 'stop') {
    void Promise.allSettled([...open]).then(() => {
      sqlite.close();
      port.close();
    });
    return;
  }
  const done = store
    .ingestGrouped(m.gatewayNum, { readings: toReadings(m.columns), events: m.events }, m.now)
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
