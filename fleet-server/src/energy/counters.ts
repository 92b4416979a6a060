// Consumption per site from counter channels, read from the rollups: a bucket's amount is its
// last counter value minus the previous bucket's last (a counter that went backwards counts only
// its rise inside the bucket). Electricity (kWh) and water (m³) alike.
import type Database from 'better-sqlite3';

export interface CounterRow {
  siteId: string;
  /** Unix ms */
  start: number;
  amount: number;
}

/**
 * Consumption per site and bucket from counter channels with one of `units` (e.g. m3 for water),
 * from the rollups: a bucket's amount is its last value minus the previous bucket's last value; a
 * counter that went backwards (meter replaced) counts only its rise inside the bucket.
 */
export function counterPerSite(
  sqlite: Database.Database,
  q: {
    units: readonly string[];
    bucketS: 900 | 3600 | 86400;
    from: number;
    to: number;
    siteId?: string | undefined;
  },
): CounterRow[] {
  const unitList = q.units.map(() => '?').join(', ');
  // CROSS JOIN fixes the join order: matching channels first, then each one's rollups by primary
  // key range (channel, bucket width, start), already in the order the window function needs.
  // Letting the planner start from rollups scans every bucket of every channel.
  return sqlite
    .prepare(
      `WITH b AS (
         SELECT g.site_id AS siteId, r.channel_id, r.bucket_start, r.first, r.last,
                lag(r.last) OVER (PARTITION BY r.channel_id ORDER BY r.bucket_start) AS prev
         FROM channels c
         JOIN gateways g ON g.num = c.gateway_num
         CROSS JOIN rollups r ON r.channel_id = c.id AND r.bucket_s = ? AND r.bucket_start >= ? AND r.bucket_start < ?
         WHERE c.kind = 'counter' AND c.unit IN (${unitList}) AND g.site_id IS NOT NULL
           AND (? IS NULL OR g.site_id = ?)
       )
       SELECT siteId, bucket_start AS start,
              sum(max(0, CASE WHEN prev IS NULL OR last < prev THEN last - first ELSE last - prev END)) AS amount
       FROM b WHERE bucket_start >= ?
       GROUP BY siteId, bucket_start ORDER BY siteId, bucket_start`,
    )
    .all(
      q.bucketS,
      q.from - q.bucketS * 1000,
      q.to,
      ...q.units,
      q.siteId ?? null,
      q.siteId ?? null,
      q.from,
    ) as CounterRow[];
}

export type EnergyInterval = '15m' | '1h' | '1d';
export const INTERVAL_S: Record<EnergyInterval, number> = { '15m': 900, '1h': 3600, '1d': 86400 };

export interface EnergyRow {
  siteId: string;
  /** Unix ms */
  start: number;
  energyKWh: number;
}

/**
 * Energy per site and interval from kWh counter channels: a bucket's energy is its last counter
 * value minus the last value of the channel's previous bucket (or its own first value when there
 * is none). A counter that went backwards (meter replaced or reset) counts only its rise inside
 * the bucket, never a negative amount.
 */
export function energyPerSite(
  sqlite: Database.Database,
  q: { siteId?: string | undefined; interval: EnergyInterval; from: number; to: number },
): EnergyRow[] {
  const bucketS = INTERVAL_S[q.interval];
  return sqlite
    .prepare(
      `WITH b AS (
         SELECT g.site_id AS siteId, r.channel_id, r.bucket_start, r.first, r.last,
                lag(r.last) OVER (PARTITION BY r.channel_id ORDER BY r.bucket_start) AS prev
         FROM rollups r
         JOIN channels c ON c.id = r.channel_id
         JOIN gateways g ON g.num = c.gateway_num
         WHERE r.bucket_s = @s AND c.unit = 'kWh' AND c.kind = 'counter' AND g.site_id IS NOT NULL
           AND (@site IS NULL OR g.site_id = @site)
           AND r.bucket_start >= @from - @s * 1000 AND r.bucket_start < @to
       )
       SELECT siteId, bucket_start AS start,
              sum(max(0, CASE WHEN prev IS NULL OR last < prev THEN last - first ELSE last - prev END)) AS energyKWh
       FROM b WHERE bucket_start >= @from
       GROUP BY siteId, bucket_start ORDER BY siteId, bucket_start`,
    )
    .all({ s: bucketS, site: q.siteId ?? null, from: q.from, to: q.to }) as EnergyRow[];
}
