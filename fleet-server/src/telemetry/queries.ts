// Telemetry queries: one channel's readings with downsampling, energy per site per interval
// (15 min, 1 h, 1 day) from the rollups, and the event log filtered by site, kind and time.
import type Database from 'better-sqlite3';
import { ROLLUP_BUCKETS_S } from './ingest.ts';

export interface SeriesPoint {
  /** bucket start (or the reading time for raw points), Unix ms */
  t: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  count: number;
}

export interface SeriesResult {
  gatewayId: string;
  channel: string;
  unit: string | null;
  /** 0 = raw readings; otherwise the bucket width in ms */
  bucketMs: number;
  source: 'raw' | 'rollup-900' | 'rollup-3600' | 'rollup-86400';
  points: SeriesPoint[];
}

/**
 * At most maxPoints points: raw readings when they fit, otherwise buckets of ceil(range/maxPoints),
 * aggregated from the coarsest rollup no wider than the bucket (or from raw rows below 15 min).
 */
export function channelSeries(
  sqlite: Database.Database,
  q: { gatewayId: string; channel: string; from: number; to: number; maxPoints: number },
): SeriesResult | null {
  const ch = sqlite
    .prepare(
      `SELECT c.id, c.unit FROM channels c JOIN gateways g ON g.num = c.gateway_num WHERE g.id = ? AND c.key = ?`,
    )
    .get(q.gatewayId, q.channel) as { id: number; unit: string | null } | undefined;
  if (!ch) return null;
  const base = { gatewayId: q.gatewayId, channel: q.channel, unit: ch.unit };
  const count = sqlite
    .prepare('SELECT count(*) FROM readings WHERE channel_id = ? AND ts >= ? AND ts < ?')
    .pluck()
    .get(ch.id, q.from, q.to) as number;
  if (count <= q.maxPoints) {
    const rows = sqlite
      .prepare(
        `SELECT ts AS t, value AS avg, value AS min, value AS max, 1 AS count FROM readings
         WHERE channel_id = ? AND ts >= ? AND ts < ? ORDER BY ts`,
      )
      .all(ch.id, q.from, q.to) as SeriesPoint[];
    return { ...base, bucketMs: 0, source: 'raw', points: rows };
  }
  const bucketMs = Math.max(1, Math.ceil((q.to - q.from) / q.maxPoints));
  const rollupS = [...ROLLUP_BUCKETS_S].reverse().find((s) => s * 1000 <= bucketMs);
  if (rollupS === undefined) {
    const rows = sqlite
      .prepare(
        `SELECT CAST((ts - @from) / @b AS INTEGER) * @b + @from AS t, avg(value) AS avg, min(value) AS min, max(value) AS max, count(value) AS count
         FROM readings WHERE channel_id = @id AND ts >= @from AND ts < @to AND quality < 2
         GROUP BY CAST((ts - @from) / @b AS INTEGER) ORDER BY t`,
      )
      .all({ id: ch.id, from: q.from, to: q.to, b: bucketMs }) as SeriesPoint[];
    return { ...base, bucketMs, source: 'raw', points: rows };
  }
  // Bound JS numbers are REALs in SQLite, hence the CASTs that make the division an integer one.
  const rows = sqlite
    .prepare(
      `SELECT CAST((bucket_start - @from) / @b AS INTEGER) * @b + @from AS t, sum(sum) / sum(count) AS avg, min(min) AS min, max(max) AS max,
              sum(count) AS count
       FROM rollups WHERE channel_id = @id AND bucket_s = @s AND bucket_start >= @from AND bucket_start < @to
       GROUP BY CAST((bucket_start - @from) / @b AS INTEGER) ORDER BY t`,
    )
    .all({ id: ch.id, from: q.from, to: q.to, b: bucketMs, s: rollupS }) as SeriesPoint[];
  return { ...base, bucketMs, source: `rollup-${rollupS}` as SeriesResult['source'], points: rows };
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

export interface EventRow {
  gatewayId: string;
  siteId: string | null;
  bootEpoch: number;
  seq: number;
  ts: number;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
}

/** `kind` matches itself and its dotted children: "preemption" finds "preemption.asserted". */
export function listEvents(
  sqlite: Database.Database,
  q: {
    siteId?: string | undefined;
    gatewayId?: string | undefined;
    kind?: string | undefined;
    from: number;
    to: number;
    limit: number;
  },
): EventRow[] {
  const rows = sqlite
    .prepare(
      `SELECT g.id AS gatewayId, g.site_id AS siteId, e.boot_epoch AS bootEpoch, e.seq, e.ts, e.kind, e.severity, e.data
       FROM events e JOIN gateways g ON g.num = e.gateway_num
       WHERE e.ts >= @from AND e.ts < @to
         AND (@site IS NULL OR g.site_id = @site)
         AND (@gw IS NULL OR g.id = @gw)
         AND (@kind IS NULL OR e.kind = @kind OR substr(e.kind, 1, length(@kind) + 1) = @kind || '.')
       ORDER BY e.ts DESC, e.id DESC LIMIT @limit`,
    )
    .all({
      from: q.from,
      to: q.to,
      site: q.siteId ?? null,
      gw: q.gatewayId ?? null,
      kind: q.kind ?? null,
      limit: q.limit,
    }) as (Omit<EventRow, 'data'> & { data: string })[];
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
}

/** Channels a gateway has reported. */
export function listChannels(sqlite: Database.Database, gatewayId: string) {
  return sqlite
    .prepare(
      `SELECT c.key AS channel, c.unit, c.kind FROM channels c JOIN gateways g ON g.num = c.gateway_num
       WHERE g.id = ? ORDER BY c.key`,
    )
    .all(gatewayId) as { channel: string; unit: string | null; kind: string | null }[];
}
