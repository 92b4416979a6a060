// The telemetry writer: exactly-once ingest (TelemetryStore, unchanged) on a worker thread with
// its own connection to the database file, so that the SQLite work of storing readings (about
// half of what a batch costs the server) runs beside the event loop's HTTP and WebSocket work
// instead of after it. WAL lets the event loop's connection read meanwhile; its own writes (and
// its transactions, which begin IMMEDIATE for this reason) wait for the writer's commit, a few
// milliseconds at most, through busy_timeout. SQLite's lock is not fair: a connection that took it
// again and again without a pause would starve the other, whose waits are polls with growing
// sleeps, until busy_timeout (5 s) fails its batch (and the gateway resends it). The event loop's
// writes are short and far apart (operator requests, session and apply reports), so neither side
// waits long in practice.
//
// Batches reach the thread in the order they are given; those that queue up while it commits go
// into its next commit together (TelemetryStore.ingestGrouped). A promise resolves with the ack
// only after the commit that stored its batch. Should the thread die, the batches it held are
// rejected (a gateway keeps unacked records and sends them again), and the next batch starts a
// new thread; after MAX_STARTS failures the event loop's own store takes over.
import type { Worker } from 'node:worker_threads';
import type { EventRecordInput, ReadingRecord, TelemetryAck } from '../protocol/index.ts';
import { startTsWorker } from '../worker-thread.ts';
import { type ReadingColumns, toColumns, toReadings, transferList } from './batch-decoder.ts';
import type { TelemetryStore } from './ingest.ts';

/** A batch as the writer takes it: readings as records or as the decoder's columns. */
export interface WriterBatch {
  readings: readonly ReadingRecord[] | ReadingColumns;
  events: readonly EventRecordInput[];
}

export interface WriteRequest {
  id: number;
  gatewayNum: number;
  now: number;
  columns: ReadingColumns;
  events: readonly EventRecordInput[];
}

export type WriteReply = { id: number; ack: TelemetryAck } | { id: number; error: string };

export interface WriterWorkerData {
  dbPath: string;
}

export interface TelemetryWriterOptions {
  /** The database file (the server's; not ':memory:', which another connection cannot share). */
  dbPath: string;
  /** Takes over when the thread cannot be kept running. */
  fallback: TelemetryStore;
  onError?: (message: string) => void;
}

const MAX_STARTS = 3;

interface Pending {
  resolve: (ack: TelemetryAck) => void;
  reject: (error: Error) => void;
}

export class TelemetryWriter {
  private worker: Worker | null = null;
  private starts = 0;
  private closing: Promise<void> | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, Pending>();

  constructor(private readonly options: TelemetryWriterOptions) {}

  /** Starts the thread now (loading it costs ~0.2 s of CPU) rather than with the first batch. */
  start(): void {
    if (!this.worker && !this.closing && this.starts < MAX_STARTS) this.spawn();
  }

  /** Stores a batch exactly once; resolves after its commit. */
  ingest(gatewayNum: number, batch: WriterBatch, now: number): Promise<TelemetryAck> {
    this.start();
    const worker = this.worker;
    if (!worker) {
      if (this.closing) return Promise.reject(new Error('the fleet server is shutting down'));
      const readings: readonly ReadingRecord[] = Array.isArray(batch.readings)
        ? batch.readings
        : toReadings(batch.readings as ReadingColumns);
      return this.options.fallback.ingestGrouped(gatewayNum, { readings, events: batch.events }, now);
    }
    const columns = Array.isArray(batch.readings)
      ? toColumns(batch.readings)
      : (batch.readings as ReadingColumns);
    const request: WriteRequest = {
      id: this.nextId++,
      gatewayNum,
      now,
      columns,
      events: batch.events,
    };
    return new Promise((resolve, reject) => {
      this.inFlight.set(request.id, { resolve, reject });
      // The columns move to the thread; whoever gave them must not read them again.
      worker.postMessage(request, transferList(columns));
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
          worker.postMessage('stop');
        })
      : Promise.resolve();
    return this.closing;
  }

  private spawn(): void {
    this.starts++;
    const data: WriterWorkerData = { dbPath: this.options.dbPath };
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
      const lost = [...this.inFlight.values()];
      this.inFlight.clear();
      const why = this.closing ? 'the fleet server shut down' : `the telemetry writer stopped (exit ${code})`;
      for (const p of lost) p.reject(new Error(`${why} before the batch was stored; send it again`));
    });
  }
}
