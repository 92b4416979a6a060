// Energy dispatch figures: per-site and region totals per quarter-hour, day or month, the biggest
// consumers, the night-flow leak indicator, and the CSV export. Pure functions over counter rows.
import { localMonth, startOfLocalDay } from '../console-shell/index.ts';
import { formatCsv } from '../csv/index.ts';

export const DISPATCH_INTERVALS = ['15m', '1d', '1mo'] as const;
export type DispatchInterval = (typeof DISPATCH_INTERVALS)[number];

export interface AmountRow {
  siteId: string;
  /** Unix ms of the bucket start */
  start: number;
  amount: number;
}

/** Months are built from day buckets; their key is the first day's local midnight. */
export function bucketRows(
  rows: readonly AmountRow[],
  interval: DispatchInterval,
  timeZone: string,
): AmountRow[] {
  if (interval !== '1mo') return [...rows];
  const out = new Map<string, AmountRow>();
  // Many sites share each bucket start: format each start once.
  const monthOf = new Map<number, string>();
  for (const r of rows) {
    let month = monthOf.get(r.start);
    if (month === undefined) {
      month = localMonth(r.start, timeZone);
      monthOf.set(r.start, month);
    }
    const key = `${r.siteId}|${month}`;
    const hit = out.get(key);
    if (hit) hit.amount += r.amount;
    else
      out.set(key, { siteId: r.siteId, start: startOfLocalDay(`${month}-01`, timeZone), amount: r.amount });
  }
  return [...out.values()].sort((a, b) =>
    a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : a.start - b.start,
  );
}

/** Sum over sites per bucket: the region's series (or one site's when only it is in rows). */
export function regionSeries(rows: readonly AmountRow[]): { start: number; amount: number }[] {
  const sums = new Map<number, number>();
  for (const r of rows) sums.set(r.start, (sums.get(r.start) ?? 0) + r.amount);
  return [...sums].sort((a, b) => a[0] - b[0]).map(([start, amount]) => ({ start, amount }));
}

export interface Consumer {
  siteId: string;
  amount: number;
  share: number;
}

/** Sites by total over the range, largest first, with their share of the region. */
export function biggestConsumers(rows: readonly AmountRow[], limit = 10): Consumer[] {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.siteId, (totals.get(r.siteId) ?? 0) + r.amount);
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals]
    .map(([siteId, amount]) => ({ siteId, amount, share: all > 0 ? amount / all : 0 }))
    .sort((a, b) => b.amount - a.amount || a.siteId.localeCompare(b.siteId))
    .slice(0, limit);
}

export interface NightFlow {
  siteId: string;
  /** Per night (local date of the morning, oldest first): the lowest hourly flow, litres per hour. */
  nights: { night: string; minLPerH: number }[];
  /** Water never stopped in any of the last `nightsForLeak` nights that have data. */
  leak: boolean;
}

/**
 * Night-flow leak indicator: in a building nobody uses at night, some hour between 01:00 and
 * 05:00 local time has no flow at all; a running toilet or a burst pipe keeps every hour above
 * zero. Input: hourly water rows in m³.
 */
export function nightFlow(
  hourly: readonly AmountRow[],
  timeZone: string,
  opts: { nightsForLeak?: number; thresholdLPerH?: number } = {},
): NightFlow[] {
  const nightsForLeak = opts.nightsForLeak ?? 3;
  const threshold = opts.thresholdLPerH ?? 0;
  const hourFmt = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' });
  const dayFmt = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const perSite = new Map<string, Map<string, number>>();
  const nightOf = new Map<number, string | null>();
  for (const r of hourly) {
    let night = nightOf.get(r.start);
    if (night === undefined) {
      const hour = Number(hourFmt.format(r.start));
      night = hour >= 1 && hour < 5 ? dayFmt.format(r.start) : null;
      nightOf.set(r.start, night);
    }
    if (night === null) continue;
    let nights = perSite.get(r.siteId);
    if (!nights) {
      nights = new Map();
      perSite.set(r.siteId, nights);
    }
    const lPerH = r.amount * 1000;
    nights.set(night, Math.min(nights.get(night) ?? Number.POSITIVE_INFINITY, lPerH));
  }
  return [...perSite]
    .map(([siteId, nights]) => {
      const list = [...nights]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([night, minLPerH]) => ({ night, minLPerH }));
      const recent = list.slice(-nightsForLeak);
      return {
        siteId,
        nights: list,
        leak: recent.length >= nightsForLeak && recent.every((n) => n.minLPerH > threshold),
      };
    })
    .sort((a, b) => Number(b.leak) - Number(a.leak) || a.siteId.localeCompare(b.siteId));
}

export function energyCsv(
  energy: readonly AmountRow[],
  water: readonly AmountRow[],
  siteNames: ReadonlyMap<string, string>,
): string {
  const rows = new Map<string, { siteId: string; start: number; kWh: number | null; m3: number | null }>();
  for (const r of energy)
    rows.set(`${r.siteId}|${r.start}`, { siteId: r.siteId, start: r.start, kWh: r.amount, m3: null });
  for (const r of water) {
    const key = `${r.siteId}|${r.start}`;
    const hit = rows.get(key);
    if (hit) hit.m3 = r.amount;
    else rows.set(key, { siteId: r.siteId, start: r.start, kWh: null, m3: r.amount });
  }
  const lines: (string | number | null)[][] = [
    ['site_id', 'site_name', 'interval_start_utc', 'energy_kwh', 'water_m3'],
  ];
  const sorted = [...rows.values()].sort((a, b) => a.siteId.localeCompare(b.siteId) || a.start - b.start);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  for (const r of sorted) {
    lines.push([
      r.siteId,
      siteNames.get(r.siteId) ?? '',
      new Date(r.start).toISOString(),
      round(r.kWh),
      round(r.m3),
    ]);
  }
  return formatCsv(lines);
}
