// An intersection's day from its events: each preemption (assert paired with its release), the
// rejections counted by reason, and the faults. Event data fields read (all optional):
// approach, role, vehicle | vehicleId, requestedAt (Unix ms the request arrived) or
// requestToContactMs, and reason on releases and rejections.
import type { EventRow } from './store.ts';

export interface Preemption {
  gatewayId: string;
  approach: string;
  role: string;
  vehicle: string | null;
  assertedAt: number;
  releasedAt: number | null;
  requestToContactMs: number | null;
  /** Release reason (cancel, timeout, holdMax, preempted, fault…), null while still asserted. */
  ended: string | null;
}

export interface IntersectionDay {
  preemptions: Preemption[];
  rejections: { reason: string; count: number }[];
  faults: EventRow[];
}

const str = (v: unknown): string | null =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function isFault(kind: string): boolean {
  return kind === 'fault' || kind.startsWith('fault.') || kind === 'preemption.fault';
}

export function intersectionDay(events: readonly EventRow[]): IntersectionDay {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  const open = new Map<string, Preemption>();
  const preemptions: Preemption[] = [];
  const rejections = new Map<string, number>();
  const faults: EventRow[] = [];
  for (const e of sorted) {
    const approach = str(e.data.approach) ?? '?';
    const key = `${e.gatewayId}|${approach}`;
    if (e.kind === 'preemption.asserted') {
      const requestedAt = num(e.data.requestedAt);
      const direct = num(e.data.requestToContactMs);
      const p: Preemption = {
        gatewayId: e.gatewayId,
        approach,
        role: str(e.data.role) ?? '?',
        vehicle: str(e.data.vehicle) ?? str(e.data.vehicleId),
        assertedAt: e.ts,
        releasedAt: null,
        requestToContactMs: direct ?? (requestedAt === null ? null : Math.max(0, e.ts - requestedAt)),
        ended: null,
      };
      preemptions.push(p);
      open.set(key, p);
    } else if (e.kind === 'preemption.released') {
      const p = open.get(key);
      if (p) {
        p.releasedAt = e.ts;
        p.ended = str(e.data.reason) ?? 'released';
        open.delete(key);
      }
    } else if (e.kind === 'preemption.rejected') {
      const reason = str(e.data.reason) ?? 'unknown';
      rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
    } else if (isFault(e.kind)) {
      faults.push(e);
    }
  }
  return {
    preemptions,
    rejections: [...rejections]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    faults,
  };
}
