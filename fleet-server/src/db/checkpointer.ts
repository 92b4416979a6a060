// WAL checkpoints on a worker thread with a connection of its own, instead of SQLite's automatic
// ones: those run inside whichever commit crosses 1000 WAL pages, copying pages into the database
// file and fsyncing it on the event loop, and cost about half of every telemetry group commit
// (docs/benchmarks.md). The worker checkpoints (PASSIVE: never blocks a writer) whenever the
// server committed since its last look; should the WAL outgrow restartAtPages because commits
// never leave a gap for a checkpoint to finish, a RESTART checkpoint makes the writer wait (at
// most ~20 ms: the writer's transactions are BEGIN IMMEDIATE, which wait on busy_timeout) so
// that the WAL starts over.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { FleetDatabase } from './open.ts';

export interface Checkpointer {
  /** True while the worker checkpoints (false for ':memory:', after stop() or a failure). */
  readonly running: boolean;
  /** Stops the worker after its current checkpoint; close the database afterwards. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /**
   * How often the worker looks for new commits, ms (default 1000). Each checkpoint copies every
   * page written since the last one, and a busy ingest rewrites the same index leaves in every
   * commit, so checkpointing more often costs CPU for nothing (docs/benchmarks.md).
   */
  intervalMs?: number;
  /** WAL size in pages above which a RESTART checkpoint runs (default 16,384: 64 MiB at 4 KiB). */
  restartAtPages?: number;
  onError?: (error: string) => void;
  /**
   * Told when the worker stopped by itself (it failed): other connections that commit (the
   * telemetry writer's) must turn their automatic checkpoints back on.
   */
  onStopped?: () => void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
// data_version changes when another connection commits; start unknown, so that what was
// committed before this worker started is checkpointed too.
let version = -1;
let restartAfter = 0;
const timer = setInterval(() => {
  try {
    const v = db.pragma('data_version', { simple: true });
    if (v === version) return;
    version = v;
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r.log > workerData.restartAtPages && r.checkpointed < r.log && Date.now() >= restartAfter) {
      // RESTART holds the write lock while it waits for readers: wait only briefly, so that the
      // server's writer (which waits for this lock) is never held up for long; when a reader
      // (a backup, a shell) is in the way, try again later rather than at every look.
      db.pragma('busy_timeout = 20');
      try {
        const [x] = db.pragma('wal_checkpoint(RESTART)');
        if (x.busy) restartAfter = Date.now() + 5000;
      } finally {
        db.pragma('busy_timeout = 5000');
      }
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ stopped: true });
});
`;

export function startCheckpointer(database: FleetDatabase, options: CheckpointerOptions = {}): Checkpointer {
  if (database.path === ':memory:') return { running: false, stop: async () => {} };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: database.path,
      intervalMs: options.intervalMs ?? 1000,
      restartAtPages: options.restartAtPages ?? 16_384,
    },
  });
  worker.unref();
  database.sqlite.pragma('wal_autocheckpoint = 0');
  let running = true;
  // Without the worker nothing would checkpoint and the WAL would grow without end.
  const fallBack = () => {
    if (!running) return;
    running = false;
    if (database.sqlite.open) database.sqlite.pragma('wal_autocheckpoint = 1000');
    options.onStopped?.();
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError?.(m.error);
  });
  worker.on('error', (error) => {
    options.onError?.(String(error));
    fallBack();
  });
  worker.on('exit', fallBack);
  return {
    get running() {
      return running;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (!running) return resolve();
        running = false;
        worker.once('exit', () => resolve());
        worker.on('message', (m: { stopped?: boolean }) => {
          if (m.stopped) void worker.terminate();
        });
        worker.postMessage('stop');
      }),
  };
}
