// Rollups: per channel, the count, sum, min, max, first and last of its usable values per
// quarter-hour (UTC multiples of 15 min), hour and day. Summed in memory over a commit, then each
// (channel, width, bucket) upserted once.
import type Database from 'better-sqlite3';

/** Rollup resolutions in seconds: the 15-minute metering interval, the hour and the day. */
export const ROLLUP_BUCKETS_S = [900, 3600, 86400] as const;

export interface Rollup {
  channelId: number;
  bucketS: number;
  bucketStart: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  firstTs: number;
  first: number;
  lastTs: number;
  last: number;
}

/** Folds `part` (which arrived later) into `agg`; on equal times the later arrival is last, the earlier first. */
export function mergeRollup(agg: Rollup, part: Rollup): void {
  agg.count += part.count;
  agg.sum += part.sum;
  if (part.min < agg.min) agg.min = part.min;
  if (part.max > agg.max) agg.max = part.max;
  if (part.firstTs < agg.firstTs) {
    agg.firstTs = part.firstTs;
    agg.first = part.first;
  }
  if (part.lastTs >= agg.lastTs) {
    agg.lastTs = part.lastTs;
    agg.last = part.last;
  }
}

/** Quarter-hour aggregates of one commit, keyed by channelId * 1e8 + quarter index. */
export type Quarters = Map<number, Rollup>;

/** Adds one value to its channel's quarter-hour in `quarters`. */
export function addToQuarter(quarters: Quarters, channelId: number, ts: number, value: number): void {
  const idx = Math.floor(ts / 900_000);
  const key = channelId * 1e8 + idx;
  const agg = quarters.get(key);
  if (!agg) {
    quarters.set(key, {
      channelId,
      bucketS: 900,
      bucketStart: idx * 900_000,
      count: 1,
      sum: value,
      min: value,
      max: value,
      firstTs: ts,
      first: value,
      lastTs: ts,
      last: value,
    });
    return;
  }
  agg.count++;
  agg.sum += value;
  if (value < agg.min) agg.min = value;
  if (value > agg.max) agg.max = value;
  if (ts < agg.firstTs) {
    agg.firstTs = ts;
    agg.first = value;
  }
  if (ts >= agg.lastTs) {
    agg.lastTs = ts;
    agg.last = value;
  }
}

export function mergeQuarters(into: Quarters, part: Quarters): void {
  for (const [key, q] of part) {
    const agg = into.get(key);
    if (!agg) into.set(key, q);
    else mergeRollup(agg, q);
  }
}

export class RollupWriter {
  private readonly upsertRollup: Database.Statement;

  constructor(sqlite: Database.Database) {
    // In an UPDATE every SET expression sees the old row, so first/last compare against old times.
    this.upsertRollup = sqlite.prepare(`
      INSERT INTO rollups (channel_id, bucket_s, bucket_start, count, sum, min, max, first_ts, first, last_ts, last)
      VALUES (@channelId, @bucketS, @bucketStart, @count, @sum, @min, @max, @firstTs, @first, @lastTs, @last)
      ON CONFLICT (channel_id, bucket_s, bucket_start) DO UPDATE SET
        count = count + excluded.count,
        sum = sum + excluded.sum,
        min = min(min, excluded.min),
        max = max(max, excluded.max),
        first_ts = CASE WHEN excluded.first_ts < first_ts THEN excluded.first_ts ELSE first_ts END,
        first = CASE WHEN excluded.first_ts < first_ts THEN excluded.first ELSE first END,
        last_ts = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last_ts ELSE last_ts END,
        last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END`);
  }

  /** Upserts quarter-hours and the hours and days merged from them. */
  write(quarters: Quarters): void {
    if (quarters.size === 0) return;
    const coarser = new Map<string, Rollup>();
    for (const q of quarters.values()) {
      this.upsertRollup.run(q);
      for (const bucketS of ROLLUP_BUCKETS_S) {
        if (bucketS === 900) continue;
        const bucketStart = Math.floor(q.bucketStart / (bucketS * 1000)) * bucketS * 1000;
        const key = `${q.channelId}:${bucketS}:${bucketStart}`;
        const agg = coarser.get(key);
        if (!agg) coarser.set(key, { ...q, bucketS, bucketStart });
        else mergeRollup(agg, q);
      }
    }
    for (const agg of coarser.values()) this.upsertRollup.run(agg);
  }
}
