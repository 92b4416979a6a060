import { afterAll, describe, expect, it } from 'vitest';
import { SEED_GATEWAY, SEED_START, seededStore } from '../../test/seeded-store.ts';
import { channelSeries } from './queries.ts';

describe('telemetry queries', () => {
  const now = SEED_START;
  const gw = SEED_GATEWAY;
  const store = seededStore();
  afterAll(() => store.close());

  it('downsamples a channel: raw when it fits, buckets otherwise', () => {
    const raw = channelSeries(store.sqlite, {
      gatewayId: gw,
      channel: 'meter.energyImportKWh',
      from: now,
      to: now + 3600_000,
      maxPoints: 100,
    });
    expect(raw?.source).toBe('raw');
    expect(raw?.points).toHaveLength(60);
    const ds = channelSeries(store.sqlite, {
      gatewayId: gw,
      channel: 'meter.energyImportKWh',
      from: now,
      to: now + 3 * 3600_000,
      maxPoints: 12,
    });
    expect(ds?.source).toBe('rollup-900');
    expect(ds?.points).toHaveLength(12);
    expect(ds?.points[0]).toMatchObject({ t: now, min: 1000, max: 1014, count: 15 });
    const fine = channelSeries(store.sqlite, {
      gatewayId: gw,
      channel: 'meter.energyImportKWh',
      from: now,
      to: now + 3600_000,
      maxPoints: 10,
    });
    expect(fine?.source).toBe('raw');
    expect(fine?.points).toHaveLength(10);
    expect(
      channelSeries(store.sqlite, { gatewayId: gw, channel: 'nope', from: 0, to: 1, maxPoints: 1 }),
    ).toBeNull();
  });
});
