import { afterAll, describe, expect, it } from 'vitest';
import { SEED_START, seededStore } from '../../test/seeded-store.ts';
import { energyPerSite } from './counters.ts';

describe('energy from counters', () => {
  const now = SEED_START;
  const store = seededStore();
  afterAll(() => store.close());

  it('computes energy per quarter-hour and hour from the counter', () => {
    const q = energyPerSite(store.sqlite, { interval: '15m', from: now, to: now + 3 * 3600_000 });
    expect(q).toHaveLength(12);
    expect(q[0]).toStrictEqual({ siteId: 'site_q', start: now, energyKWh: 14 }); // first bucket: last - first
    expect(q.slice(1).every((r) => r.energyKWh === 15)).toBe(true);
    const h = energyPerSite(store.sqlite, {
      siteId: 'site_q',
      interval: '1h',
      from: now + 3600_000,
      to: now + 3 * 3600_000,
    });
    expect(h.map((r) => r.energyKWh)).toStrictEqual([60, 60]);
  });
});
