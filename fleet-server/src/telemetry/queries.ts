// Telemetry queries: one channel's readings with downsampling, a gateway's channels, and each
// channel's latest value.
import type Database from 'better-sqlite3';
import { ROLLUP_BUCKETS_S } from './rollups.ts';

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

/** Channels a gateway has reported. */
export function listChannels(sqlite: Database.Database, gatewayId: string) {
  return sqlite
    .prepare(
      `SELECT c.key AS channel, c.unit, c.kind FROM channels c JOIN gateways g ON g.num = c.gateway_num
       WHERE g.id = ? ORDER BY c.key`,
    )
    .all(gatewayId) as { channel: string; unit: string | null; kind: string | null }[];
}

export interface LatestValue {
  channel: string;
  unit: string | null;
  kind: string | null;
  ts: number | null;
  value: number | null;
  quality: number | null;
}

export function latestValues(sqlite: Database.Database, gatewayId: string): LatestValue[] {
  return sqlite
    .prepare(
      `SELECT c.key AS channel, c.unit, c.kind, r.ts, r.value, r.quality
       FROM channels c JOIN gateways g ON g.num = c.gateway_num
       LEFT JOIN readings r ON r.rowid = (SELECT rowid FROM readings WHERE channel_id = c.id ORDER BY ts DESC LIMIT 1)
       WHERE g.id = ? ORDER BY c.key`,
    )
    .all(gatewayId) as LatestValue[];
}
