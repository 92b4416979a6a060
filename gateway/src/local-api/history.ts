// History for flows: the last value of every channel, and quarter-hour rollups that outlive the
// journal (which keeps a record only until the fleet acked it). Counters are summed from the
// gateway's own quarter-hour intervals (`fieldbus.interval` events: one source of truth for energy
// and water use); gauges keep count, sum, min and max per quarter hour. Records are taken in memory
// as they are committed and written in one transaction per flush, so the agent never waits on it.
import { floorQuarterHour, QUARTER_HOUR_MS } from '@brana/firmware';
import type Database from 'better-sqlite3';
import { type Bucket, bucketsBetween, type Step } from './buckets.ts';
import type { CommittedRecord } from './committed.ts';
import { channelTopic, type PatternSet } from './patterns.ts';

export interface LastValue {
  channel: string;
  topic: string;
  value: number | string | null;
  quality: string;
  unit: string | undefined;
  kind: string | undefined;
  atMs: number;
}

export type IntervalQuality = 'complete' | 'estimated' | 'partial' | 'missing';

export interface CounterBucket {
  startMs: number;
  endMs: number;
  /** Use in the bucket (kWh, m³); null when no interval of it is known: a gap stays a gap. */
  delta: number | null;
  /** complete: every quarter hour known and measured; partial: some missing or partial. */
  quality: IntervalQuality;
  quarters: number;
  known: number;
}

export interface GaugeBucket {
  startMs: number;
  endMs: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  samples: number;
}

export type RangeResult =
  | { kind: 'counter'; unit: string | undefined; buckets: CounterBucket[] }
  | { kind: 'gauge'; unit: string | undefined; buckets: GaugeBucket[] };

interface GaugeAcc {
  channel: string;
  startMs: number;
  n: number;
  sum: number;
  min: number;
  max: number;
  unit: string | undefined;
}

export interface HistoryOptions {
  /** Quarter-hour rollups older than this are deleted (default 62 days). */
  retentionDays?: number;
  nowMs?: () => number;
}

export class History {
  readonly #db: Database.Database;
  readonly #retentionMs: number;
  readonly #last = new Map<string, LastValue>();
  readonly #dirtyLast = new Set<string>();
  readonly #gauges = new Map<string, GaugeAcc>();
  #intervals: {
    channel: string;
    startMs: number;
    delta: number;
    quality: string;
    unit: string | undefined;
  }[] = [];
  #latestMs = 0;
  #prunedAtMs = 0;
  readonly #loadGauge: Database.Statement;
  readonly #now: () => number;

  constructor(db: Database.Database, options: HistoryOptions = {}) {
    this.#db = db;
    this.#retentionMs = (options.retentionDays ?? 62) * 86_400_000;
    this.#now = options.nowMs ?? Date.now;
    this.#loadGauge = db.prepare('SELECT n, sum, min, max FROM gauge_qh WHERE channel = ? AND start_ms = ?');
    const rows = db.prepare('SELECT * FROM last_values').all() as {
      channel: string;
      at_ms: number;
      value: string;
      quality: string;
      unit: string | null;
      kind: string | null;
    }[];
    for (const r of rows) {
      this.#last.set(r.channel, {
        channel: r.channel,
        topic: channelTopic(r.channel),
        value: JSON.parse(r.value) as number | string | null,
        quality: r.quality,
        unit: r.unit ?? undefined,
        kind: r.kind ?? undefined,
        atMs: r.at_ms,
      });
    }
  }

  /** Takes committed records in (memory only; `flush` writes). */
  observe(records: readonly CommittedRecord[]): void {
    for (const { record: r } of records) {
      if (r.kind === 'reading') {
        const prev = this.#last.get(r.channel);
        if (!prev || prev.atMs <= r.atMs) {
          this.#last.set(r.channel, {
            channel: r.channel,
            topic: channelTopic(r.channel),
            value: r.value,
            quality: r.quality,
            unit: r.unit,
            kind: r.channelKind,
            atMs: r.atMs,
          });
          this.#dirtyLast.add(r.channel);
        }
        if (r.atMs > this.#latestMs) this.#latestMs = r.atMs;
        const usable = r.quality !== 'bad' && r.quality !== 'stale';
        if (
          r.channelKind !== 'counter' &&
          typeof r.value === 'number' &&
          Number.isFinite(r.value) &&
          usable
        ) {
          this.#addGauge(r.channel, r.atMs, r.value, r.unit);
        }
      } else if (r.kind === 'event' && r.type === 'fieldbus.interval') {
        const d = r.data as {
          channel?: unknown;
          startMs?: unknown;
          delta?: unknown;
          quality?: unknown;
          unit?: unknown;
        };
        if (typeof d.channel === 'string' && typeof d.startMs === 'number' && typeof d.delta === 'number') {
          this.#intervals.push({
            channel: d.channel,
            startMs: d.startMs,
            delta: d.delta,
            quality: typeof d.quality === 'string' ? d.quality : 'complete',
            unit: typeof d.unit === 'string' ? d.unit : undefined,
          });
        }
      }
    }
  }

  #addGauge(channel: string, atMs: number, value: number, unit: string | undefined): void {
    const startMs = floorQuarterHour(atMs);
    const key = `${channel}\u0000${startMs}`;
    let acc = this.#gauges.get(key);
    if (!acc) {
      // A quarter hour already partly written (before a restart) goes on from what was stored.
      const row = this.#loadGauge.get(channel, startMs) as
        | { n: number; sum: number; min: number; max: number }
        | undefined;
      acc = row
        ? { channel, startMs, ...row, unit }
        : { channel, startMs, n: 0, sum: 0, min: value, max: value, unit };
      this.#gauges.set(key, acc);
    }
    acc.n++;
    acc.sum += value;
    if (value < acc.min) acc.min = value;
    if (value > acc.max) acc.max = value;
  }

  /** Writes what was observed since the last flush, in one transaction. */
  flush(): void {
    const nowMs = this.#now();
    const putLast = this.#db.prepare(
      'INSERT OR REPLACE INTO last_values (channel, at_ms, value, quality, unit, kind) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const putGauge = this.#db.prepare(
      'INSERT OR REPLACE INTO gauge_qh (channel, start_ms, n, sum, min, max, unit) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const putInterval = this.#db.prepare(
      'INSERT OR REPLACE INTO interval_qh (channel, start_ms, delta, quality, unit) VALUES (?, ?, ?, ?, ?)',
    );
    // Quarter hours that ended a while before the newest reading are final: written, then dropped.
    const openFrom = floorQuarterHour(this.#latestMs) - QUARTER_HOUR_MS;
    this.#db.transaction(() => {
      for (const channel of this.#dirtyLast) {
        const v = this.#last.get(channel);
        if (v)
          putLast.run(
            channel,
            Math.round(v.atMs),
            JSON.stringify(v.value),
            v.quality,
            v.unit ?? null,
            v.kind ?? null,
          );
      }
      for (const [key, a] of this.#gauges) {
        putGauge.run(a.channel, a.startMs, a.n, a.sum, a.min, a.max, a.unit ?? null);
        if (a.startMs < openFrom) this.#gauges.delete(key);
      }
      for (const i of this.#intervals)
        putInterval.run(i.channel, i.startMs, i.delta, i.quality, i.unit ?? null);
      if (nowMs - this.#prunedAtMs > 3_600_000) {
        this.#prunedAtMs = nowMs;
        const before = nowMs - this.#retentionMs;
        this.#db.prepare('DELETE FROM gauge_qh WHERE start_ms < ?').run(before);
        this.#db.prepare('DELETE FROM interval_qh WHERE start_ms < ?').run(before);
      }
    })();
    this.#dirtyLast.clear();
    this.#intervals = [];
  }

  /** Last values of the channels `patterns` matches, by topic. */
  last(patterns: PatternSet, limit: number): LastValue[] {
    const out: LastValue[] = [];
    for (const v of this.#last.values()) {
      if (patterns.matches(v.channel)) out.push(v);
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic));
  }

  lastOf(channel: string): LastValue | undefined {
    return this.#last.get(channel);
  }

  channels(): LastValue[] {
    return [...this.#last.values()];
  }

  /**
   * Aggregates one channel over [fromMs, toMs) by `step`. A channel with quarter-hour intervals is
   * a counter (sums of use); any other is a gauge (avg, min, max). Undefined: more buckets than `maxBuckets`.
   */
  range(
    channel: string,
    fromMs: number,
    toMs: number,
    step: Step,
    timeZone: string,
    maxBuckets: number,
  ): RangeResult | undefined {
    const buckets = bucketsBetween(fromMs, toMs, step, timeZone, maxBuckets);
    if (!buckets) return undefined;
    // Unwritten memory first, so a query sees what was observed a moment ago.
    this.flush();
    const lo = buckets[0]?.startMs ?? fromMs;
    const hi = buckets.at(-1)?.endMs ?? toMs;
    const intervals = this.#db
      .prepare(
        'SELECT start_ms, delta, quality, unit FROM interval_qh WHERE channel = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms',
      )
      .all(channel, lo, hi) as { start_ms: number; delta: number; quality: string; unit: string | null }[];
    const last = this.#last.get(channel);
    if (intervals.length > 0 || last?.kind === 'counter') {
      return {
        kind: 'counter',
        unit: intervals[0]?.unit ?? last?.unit,
        buckets: sumIntervals(buckets, intervals),
      };
    }
    const gauges = this.#db
      .prepare(
        'SELECT start_ms, n, sum, min, max, unit FROM gauge_qh WHERE channel = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms',
      )
      .all(channel, lo, hi) as {
      start_ms: number;
      n: number;
      sum: number;
      min: number;
      max: number;
      unit: string | null;
    }[];
    return { kind: 'gauge', unit: gauges[0]?.unit ?? last?.unit, buckets: foldGauges(buckets, gauges) };
  }
}

function sumIntervals(
  buckets: Bucket[],
  rows: { start_ms: number; delta: number; quality: string }[],
): CounterBucket[] {
  let i = 0;
  return buckets.map((b) => {
    let delta = 0;
    let known = 0;
    let worst: IntervalQuality = 'complete';
    while (i < rows.length && rows[i]!.start_ms < b.endMs) {
      const r = rows[i++]!;
      if (r.start_ms < b.startMs) continue;
      delta += r.delta;
      known++;
      if (r.quality === 'partial' || (r.quality === 'estimated' && worst === 'complete')) {
        worst = r.quality as IntervalQuality;
      }
    }
    const quality: IntervalQuality = known === 0 ? 'missing' : known < b.quarters ? 'partial' : worst;
    return {
      startMs: b.startMs,
      endMs: b.endMs,
      delta: known === 0 ? null : delta,
      quality,
      quarters: b.quarters,
      known,
    };
  });
}

function foldGauges(
  buckets: Bucket[],
  rows: { start_ms: number; n: number; sum: number; min: number; max: number }[],
): GaugeBucket[] {
  let i = 0;
  return buckets.map((b) => {
    let n = 0;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    while (i < rows.length && rows[i]!.start_ms < b.endMs) {
      const r = rows[i++]!;
      if (r.start_ms < b.startMs) continue;
      n += r.n;
      sum += r.sum;
      min = Math.min(min, r.min);
      max = Math.max(max, r.max);
    }
    return n === 0
      ? { startMs: b.startMs, endMs: b.endMs, avg: null, min: null, max: null, samples: 0 }
      : { startMs: b.startMs, endMs: b.endMs, avg: sum / n, min, max, samples: n };
  });
}
