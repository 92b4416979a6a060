import { describe, expect, it } from 'vitest';
import { intersectionDay } from './preemptions.ts';
import type { EventRow } from './store.ts';

let seq = 0;
const ev = (ts: number, kind: string, data: Record<string, unknown> = {}): EventRow => ({
  gatewayId: 'gw_x',
  siteId: 's',
  bootEpoch: 1,
  seq: ++seq,
  ts,
  kind,
  severity: 'info',
  data,
});

describe('intersectionDay', () => {
  it('pairs each assertion with the release of the same approach and times request to contact', () => {
    const day = intersectionDay([
      ev(1000, 'preemption.asserted', {
        approach: 2,
        role: 'ambulance',
        vehicle: 'ZZS-12',
        requestedAt: 820,
      }),
      ev(1500, 'preemption.asserted', { approach: 1, role: 'transit', requestToContactMs: 95 }),
      ev(9000, 'preemption.released', { approach: 2, reason: 'cancel' }),
      ev(9500, 'preemption.rejected', { reason: 'stale' }),
      ev(9600, 'preemption.rejected', { reason: 'replayed' }),
      ev(9700, 'preemption.rejected', { reason: 'stale' }),
      ev(9800, 'fault', { reason: 'output readback mismatch' }),
    ]);
    expect(day.preemptions).toStrictEqual([
      {
        gatewayId: 'gw_x',
        approach: '2',
        role: 'ambulance',
        vehicle: 'ZZS-12',
        assertedAt: 1000,
        releasedAt: 9000,
        requestToContactMs: 180,
        ended: 'cancel',
      },
      {
        gatewayId: 'gw_x',
        approach: '1',
        role: 'transit',
        vehicle: null,
        assertedAt: 1500,
        releasedAt: null,
        requestToContactMs: 95,
        ended: null,
      },
    ]);
    expect(day.rejections).toStrictEqual([
      { reason: 'stale', count: 2 },
      { reason: 'replayed', count: 1 },
    ]);
    expect(day.faults.map((f) => f.kind)).toStrictEqual(['fault']);
  });

  it('ignores a release without an assertion', () => {
    expect(intersectionDay([ev(5, 'preemption.released', { approach: 1 })]).preemptions).toStrictEqual([]);
  });
});
