import { afterAll, describe, expect, it } from 'vitest';
import { SEED_GATEWAY, SEED_START, seededStore } from '../../test/seeded-store.ts';
import { listEvents } from './store.ts';

describe('event log', () => {
  const now = SEED_START;
  const gw = SEED_GATEWAY;
  const store = seededStore();
  afterAll(() => store.close());

  it('filters events by kind prefix, site and time', () => {
    const all = listEvents(store.sqlite, { from: now, to: now + 10, limit: 100 });
    expect(all.map((e) => e.kind)).toStrictEqual(['fault', 'preemptionx', 'preemption.asserted']);
    const pre = listEvents(store.sqlite, {
      kind: 'preemption',
      siteId: 'site_q',
      from: now,
      to: now + 10,
      limit: 100,
    });
    expect(pre).toHaveLength(1);
    expect(pre[0]).toMatchObject({ gatewayId: gw, siteId: 'site_q', data: { approach: 2 } });
    expect(listEvents(store.sqlite, { siteId: 'other', from: now, to: now + 10, limit: 100 })).toHaveLength(
      0,
    );
  });
});
