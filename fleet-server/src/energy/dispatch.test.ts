import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../console-shell/index.ts';
import { biggestConsumers, bucketRows, energyCsv, nightFlow, regionSeries } from './dispatch.ts';

const TZ = 'Europe/Prague';

describe('energy dispatch figures', () => {
  it('sums day buckets into local calendar months', () => {
    const d = (iso: string) => startOfLocalDay(iso, TZ);
    const rows = [
      { siteId: 's1', start: d('2026-01-30'), amount: 1 },
      { siteId: 's1', start: d('2026-01-31'), amount: 2 },
      { siteId: 's1', start: d('2026-02-01'), amount: 4 },
    ];
    expect(bucketRows(rows, '1mo', TZ)).toStrictEqual([
      { siteId: 's1', start: d('2026-01-01'), amount: 3 },
      { siteId: 's1', start: d('2026-02-01'), amount: 4 },
    ]);
  });

  it('adds sites per bucket for the region and ranks consumers by total', () => {
    const rows = [
      { siteId: 'a', start: 0, amount: 1 },
      { siteId: 'b', start: 0, amount: 3 },
      { siteId: 'b', start: 900_000, amount: 4 },
    ];
    expect(regionSeries(rows)).toStrictEqual([
      { start: 0, amount: 4 },
      { start: 900_000, amount: 4 },
    ]);
    const top = biggestConsumers(rows);
    expect(top.map((c) => c.siteId)).toStrictEqual(['b', 'a']);
    expect(top[0]!.share).toBeCloseTo(7 / 8);
  });

  it('flags a building whose water never stops at night, and not one that does', () => {
    const rows = [];
    for (const day of ['2026-03-10', '2026-03-11', '2026-03-12']) {
      const midnight = startOfLocalDay(day, TZ);
      for (let h = 0; h < 24; h++) {
        const start = midnight + h * 3600_000;
        rows.push({ siteId: 'leaky', start, amount: h >= 1 && h < 5 ? 0.012 : 0.3 });
        rows.push({ siteId: 'tight', start, amount: h === 3 ? 0 : 0.2 });
      }
    }
    const r = nightFlow(rows, TZ);
    const leaky = r.find((n) => n.siteId === 'leaky')!;
    expect(leaky.leak).toBe(true);
    expect(leaky.nights.map((n) => n.minLPerH)).toStrictEqual([12, 12, 12]);
    expect(r.find((n) => n.siteId === 'tight')!.leak).toBe(false);
  });

  it('writes CSV with a header, quoting names that need it', () => {
    const csv = energyCsv(
      [{ siteId: 's1', start: Date.UTC(2026, 0, 1), amount: 1.23456 }],
      [{ siteId: 's1', start: Date.UTC(2026, 0, 1), amount: 0.5 }],
      new Map([['s1', 'ZŠ "Komenského", Brno']]),
    );
    expect(csv).toBe(
      'site_id,site_name,interval_start_utc,energy_kwh,water_m3\r\ns1,"ZŠ ""Komenského"", Brno",2026-01-01T00:00:00.000Z,1.235,0.5\r\n',
    );
  });
});
