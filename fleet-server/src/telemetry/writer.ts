// The telemetry writer: exactly-once ingest (TelemetryStore) on a worker thread with its own
// connection to the database file, so that the SQLite work of storing readings (about half of what
// a batch costs the server) runs beside the event loop's HTTP and WebSocket work instead of after
// it. WAL lets the event loop's connection read meanwhile. Its own writes would wait for this
// thread's lock in SQLite's busy handler, blocking the event loop for tens of ms (figures in
// docs/benchmarks.md); so the one write that comes with telemetry, a gateway's last-seen time, is
// made here (`seen`), with the others of its turn in one transaction, and the event loop's other
// writes go through the write gate (write-gate/): while one runs, this thread begins no
// transaction, so the event loop waits for one transaction at most.
//
// Batches reach the thread in the order they are given; those that queue up while it commits go
// into its next commit together (TelemetryStore.ingestGrouped). A promise resolves with the ack
// only after the commit that stored its batch. Should the thread die, the batches it held are
// rejected (a gateway keeps unacked records and sends them again), and the next batch starts a
// new thread; after MAX_STARTS failures in a row (a thread that ran for RESTART_FORGIVE_MS does
// not count) the event loop's own store takes over.
import type { Worker } from 'node:worker_threads';
import type { EventRecordInput, TelemetryAck } from '@brana/protocol';
import type Database from 'better-sqlite3';
import { UnavailableError } from '../errors.ts';
import type { WriteGate } from '../write-gate/index.ts';
import { asColumns, type ReadingColumns, transferList } from './columns.ts';
import type { IngestBatch, TelemetryStore } from './ingest.ts';
import { setLastSeen } from './last-seen.ts';
import { startTsWorker } from './worker-thread.ts';

export interface WriteRequest {
  id: number;
  gatewayNum: number;
  now: number;
  columns: ReadingColumns;
  events: readonly EventRecordInput[];
  /** Set the gateway's last_seen_at to `now` as well (gateway id). */
  seen?: string;
}

/** Control messages to the thread. */
export type WriterControl = 'stop' | { autoCheckpoint: boolean };

export type WriteReply = { id: number; ack: TelemetryAck } | { id: number; error: string };

export interface WriterWorkerData {
  dbPath: string;
  /** SQLite's automatic checkpoints on the thread's connection: off while a checkpointer runs. */
  autoCheckpoint: boolean;
  /** The database's write gate (write-gate/), shared with the event loop. */
  gate?: SharedArrayBuffer;
}

export interface TelemetryWriterOptions {
  /** The database file (the server's; not ':memory:', which another connection cannot share). */
  dbPath: string;
  /** Run the thread (default true); false stores every batch with `fallback` on the event loop. */
  thread?: boolean;
  /** Takes over when the thread cannot be kept running (or does not run). */
  fallback: TelemetryStore;
  /** The database's write gate (write-gate/): the thread holds off while the event loop writes. */
  gate?: WriteGate;
  /** The event loop's connection, where the fallback sets a gateway's last-seen time. */
  loopConnection: Database.Database;
  onError?: (message: string) => void;
}

const MAX_STARTS = 3;
/** A thread that ran this long before it died is not counted against MAX_STARTS. */
const RESTART_FORGIVE_MS = 60_000;

interface Pending {
  resolve: (ack: TelemetryAck) => void;
  reject: (error: Error) => void;
}

export class TelemetryWriter {
  private worker: Worker | null = null;
  private starts = 0;
  private closing: Promise<void> | null = null;
  private nextId = 1;
  private autoCheckpoint = true;
  private readonly inFlight = new Map<number, Pending>();

  constructor(private readonly options: TelemetryWriterOptions) {}

  /** Starts the thread now (loading it costs ~0.2 s of CPU) rather than with the first batch. */
  start(): void {
    if (this.options.thread !== false && !this.worker && !this.closing && this.starts < MAX_STARTS)
      this.spawn();
  }

  /**
   * SQLite's automatic WAL checkpoints on the thread's connection (default on). The server turns
   * them off while its checkpoint thread runs (db/checkpointer.ts) and on again if that stops.
   */
  setAutoCheckpoint(on: boolean): void {
    this.autoCheckpoint = on;
    this.worker?.postMessage({ autoCheckpoint: on } satisfies WriterControl);
  }

  /**
   * Stores a batch exactly once; resolves after its commit. `seen`: also set that gateway's
   * last_seen_at to `now` (on the thread, so the event loop never waits for the lock for it).
   */
  ingest(gatewayNum: number, batch: IngestBatch, now: number, seen?: string): Promise<TelemetryAck> {
    this.start();
    const worker = this.worker;
    if (!worker) {
      if (this.closing) return Promise.reject(new UnavailableError('the fleet server is shutting down'));
      if (seen !== undefined) setLastSeen(this.options.loopConnection, seen, now);
      return this.options.fallback.ingestGrouped(gatewayNum, batch, now);
    }
    const columns = asColumns(batch.readings);
    const request: WriteRequest = {
      id: this.nextId++,
      gatewayNum,
      now,
      columns,
      events: batch.events,
    };
    if (seen !== undefined) request.seen = seen;
    return new Promise((resolve, reject) => {
      this.inFlight.set(request.id, { resolve, reject });
      try {
        // The columns move to the thread; whoever gave them must not read them again.
        worker.postMessage(request, transferList(columns));
        columns.count = 0; // its arrays are gone: anyone reading them again sees no readings
      } catch (error) {
        // Columns already moved elsewhere, an event that cannot be cloned: nothing was sent.
        this.inFlight.delete(request.id);
        reject(error);
      }
    });
  }

  /** Batches given and not yet answered. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Stores what it was given, then closes the thread's connection. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const worker = this.worker;
    this.closing = worker
      ? new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          worker.postMessage('stop' satisfies WriterControl);
        })
      : Promise.resolve();
    return this.closing;
  }

  private spawn(): void {
    this.starts++;
    const startedAt = Date.now();
    const data: WriterWorkerData = { dbPath: this.options.dbPath, autoCheckpoint: this.autoCheckpoint };
    if (this.options.gate) data.gate = this.options.gate.buffer;
    const worker = startTsWorker(new URL('./writer.worker.ts', import.meta.url), data);
    this.worker = worker;
    worker.on('message', (m: WriteReply | { bootError: string }) => {
      if ('bootError' in m) {
        this.options.onError?.(`telemetry writer did not start: ${m.bootError}`);
        return;
      }
      const p = this.inFlight.get(m.id);
      if (!p) return;
      this.inFlight.delete(m.id);
      if ('ack' in m) p.resolve(m.ack);
      else p.reject(new Error(m.error));
    });
    worker.on('error', (error) => this.options.onError?.(`telemetry writer failed: ${String(error)}`));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (Date.now() - startedAt >= RESTART_FORGIVE_MS) this.starts = 0;
      const lost = [...this.inFlight.values()];
      this.inFlight.clear();
      const why = this.closing ? 'the fleet server shut down' : `the telemetry writer stopped (exit ${code})`;
      for (const p of lost)
        p.reject(new UnavailableError(`${why} before the batch was stored; send it again`));
    });
  }
}
