// The fleet bus: what changed, for pages that show live values (the console's Server-Sent Events),
// for caches that must forget, and for tests. Announcements only: the database stays the truth.
import { EventEmitter } from 'node:events';
import type { EventRecordInput, ReadingRecord } from '@brana/protocol';

export interface FleetBusEvents {
  /** A gateway's batch was stored (after its commit). */
  telemetry: [{ gatewayId: string; readings: readonly ReadingRecord[]; events: readonly EventRecordInput[] }];
  gateway: [{ gatewayId: string; online: boolean }];
  apply: [{ gatewayId: string; version: number; state: string }];
  rollout: [{ rolloutId: string }];
}

export type FleetBus = EventEmitter<FleetBusEvents>;

export function newFleetBus(): FleetBus {
  const bus = new EventEmitter<FleetBusEvents>();
  // One listener per open console page.
  bus.setMaxListeners(1000);
  return bus;
}
