// A gateway's telemetry batch from arrival to ack: stored exactly once (on the writer thread when
// the database is a file, else on the event loop), then announced to live pages on the bus.
import type { TelemetryAck } from '@brana/protocol';
import type { FleetBus, Logger } from '../core/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { type TelemetryIn, toReadings } from './columns.ts';
import { TelemetryStore } from './ingest.ts';
import { TelemetryWriter } from './writer.ts';

export interface TelemetryPipelineDeps {
  database: FleetDatabase;
  bus: FleetBus;
  log: Logger;
  now(): number;
  /** Store telemetry on a writer thread (default true for a database file; see writer.ts). */
  writerThread?: boolean | undefined;
}

export class TelemetryPipeline {
  /** The event loop's store: watermarks, and ingest where no writer thread runs. */
  readonly store: TelemetryStore;
  /** Stores telemetry: on its thread, or with `store` where none runs. */
  readonly writer: TelemetryWriter;

  constructor(private readonly deps: TelemetryPipelineDeps) {
    const { database, log } = deps;
    this.store = new TelemetryStore(database.sqlite);
    this.writer = new TelemetryWriter({
      dbPath: database.path,
      thread: (deps.writerThread ?? true) && database.path !== ':memory:',
      fallback: this.store,
      loopConnection: database.sqlite,
      gate: database.writeGate,
      onError: (message) => log.error(message),
    });
  }

  /**
   * Stores a gateway's batch exactly once and resolves with its ack after the commit, then shows
   * it to live pages (bus 'telemetry'). `markSeen`: set the gateway's last_seen_at too, in the
   * same place.
   */
  async ingest(
    gateway: { num: number; id: string },
    batch: TelemetryIn,
    markSeen?: boolean,
  ): Promise<TelemetryAck> {
    const { bus, now } = this.deps;
    // Records for live pages, made before the columns move to the writer thread.
    const live =
      bus.listenerCount('telemetry') > 0
        ? { gatewayId: gateway.id, readings: toReadings(batch.columns), events: batch.events }
        : null;
    const ack = await this.writer.ingest(
      gateway.num,
      { readings: batch.columns, events: batch.events },
      now(),
      markSeen ? gateway.id : undefined,
    );
    if (live) bus.emit('telemetry', live);
    return ack;
  }

  /** Every watermark held for a gateway (sent after hello so it can trim its journal). */
  watermarks(gatewayNum: number) {
    return this.store.watermarks(gatewayNum);
  }

  /** Stores what it was given, then stops the writer thread. */
  close(): Promise<void> {
    return this.writer.close();
  }
}
