// What every part of a running fleet server shares: the database, the server key, telemetry,
// rollouts, the live gateway sessions and an event bus for pages that show live values.

import type { KeyObject } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { EventRecordInput, ReadingRecord, TelemetryAck } from '@brana/protocol';
import type { ConfigValidator } from './configs/index.ts';
import type { FleetDatabase, FleetDb } from './db/index.ts';
import type { GatewayHub } from './gateway-link/hub.ts';
import type { RolloutService } from './rollouts/service.ts';
import type { TelemetryIn, TelemetryStore, TelemetryWriter } from './telemetry/index.ts';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Events on FleetContext.bus, for live pages (the console) and tests. */
export interface FleetBusEvents {
  telemetry: [{ gatewayId: string; readings: readonly ReadingRecord[]; events: readonly EventRecordInput[] }];
  gateway: [{ gatewayId: string; online: boolean }];
  apply: [{ gatewayId: string; version: number; state: string }];
  rollout: [{ rolloutId: string }];
}

export interface FleetContext {
  database: FleetDatabase;
  db: FleetDb;
  serverKey: { privateKey: KeyObject; publicKey: string };
  /** The event loop's telemetry store: watermarks, and ingest where no writer thread runs. */
  telemetry: TelemetryStore;
  /**
   * Stores a gateway's telemetry batch exactly once and resolves with its ack after the commit: on
   * the writer thread (telemetry/writer.ts) when the database is a file, else on the event loop.
   * Then shows it to live pages (`bus` 'telemetry'). `markSeen`: set the gateway's last_seen_at
   * too, in the same place.
   */
  ingestTelemetry(
    gateway: { num: number; id: string },
    batch: TelemetryIn,
    markSeen?: boolean,
  ): Promise<TelemetryAck>;
  /** Stores telemetry: on its thread, or with `telemetry` where none runs (closed with the server). */
  writer: TelemetryWriter;
  rollouts: RolloutService;
  hub: GatewayHub;
  validateConfig: ConfigValidator;
  bus: EventEmitter<FleetBusEvents>;
  now(): number;
  log: Logger;
}
