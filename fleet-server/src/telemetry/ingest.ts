// Exactly-once telemetry ingest. Each record is keyed by (gateway, bootEpoch, seq); a unique index
// and INSERT OR IGNORE in one transaction per batch turn at-least-once sending into exactly-once
// storage. The ack names, per boot epoch, the highest seq below which nothing is missing.
import type Database from 'better-sqlite3';
import type { AckEntry, EventRecordInput, ReadingRecord, TelemetryAck } from '../protocol/index.ts';

const QUALITY = { good: 0, uncertain: 1, bad: 2 } as const;
/** Rollup resolutions in seconds: the 15-minute metering interval, the hour and the day. */
export const ROLLUP_BUCKETS_S = [900, 3600, 86400] as const;

interface Rollup {
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

function addValue(agg: Rollup, ts: number, value: number): void {
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

function mergeRollup(agg: Rollup, part: Rollup): void {
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

export interface IngestBatch {
  readings: readonly ReadingRecord[];
  events: readonly EventRecordInput[];
}

interface GroupJob {
  gatewayNum: number;
  batch: IngestBatch;
  now: number;
  resolve: (ack: TelemetryAck) => void;
  reject: (error: unknown) => void;
}

type GroupOutcome = { ok: true; ack: TelemetryAck } | { ok: false; error: unknown };

export class TelemetryStore {
  private readonly insertReading: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly upsertRollup: Database.Statement;
  private readonly insertChannel: Database.Statement;
  private readonly selectChannel: Database.Statement;
  private readonly updateChannelMeta: Database.Statement;
  private readonly selectWatermark: Database.Statement;
  private readonly upsertWatermark: Database.Statement;
  private readonly storedAt: Database.Statement;
  private readonly selectWatermarks: Database.Statement;
  private readonly channelCache = new Map<
    number,
    Map<string, { id: number; unit: string | null; kind: string | null }>
  >();
  private readonly ingestTx: (gatewayNum: number, batch: IngestBatch, now: number) => TelemetryAck;
  private readonly groupTx: (jobs: readonly GroupJob[]) => GroupOutcome[];
  private pending: GroupJob[] = [];
  private flushScheduled = false;

  constructor(sqlite: Database.Database) {
    this.insertReading = sqlite.prepare(
      'INSERT OR IGNORE INTO readings (gateway_num, boot_epoch, seq, channel_id, ts, value, quality) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertEvent = sqlite.prepare(
      'INSERT OR IGNORE INTO events (gateway_num, boot_epoch, seq, ts, kind, severity, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
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
    this.insertChannel = sqlite.prepare(
      'INSERT OR IGNORE INTO channels (gateway_num, key, unit, kind) VALUES (?, ?, ?, ?)',
    );
    this.selectChannel = sqlite.prepare(
      'SELECT id, unit, kind FROM channels WHERE gateway_num = ? AND key = ?',
    );
    this.updateChannelMeta = sqlite.prepare('UPDATE channels SET unit = ?, kind = ? WHERE id = ?');
    this.selectWatermark = sqlite
      .prepare('SELECT seq FROM ingest_watermarks WHERE gateway_num = ? AND boot_epoch = ?')
      .pluck();
    this.upsertWatermark = sqlite.prepare(`
      INSERT INTO ingest_watermarks (gateway_num, boot_epoch, seq, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (gateway_num, boot_epoch) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`);
    this.storedAt = sqlite
      .prepare(`
      SELECT 1 FROM readings WHERE gateway_num = ? AND boot_epoch = ? AND seq = ?
      UNION ALL
      SELECT 1 FROM events WHERE gateway_num = ? AND boot_epoch = ? AND seq = ?
      LIMIT 1`)
      .pluck();
    this.selectWatermarks = sqlite.prepare(
      'SELECT boot_epoch AS bootEpoch, seq FROM ingest_watermarks WHERE gateway_num = ? ORDER BY boot_epoch',
    );
    this.ingestTx = sqlite.transaction((g: number, b: IngestBatch, now: number) =>
      this.ingestInTx(g, b, now),
    );
    // Inside this outer transaction each ingestTx call runs in its own savepoint, so one batch
    // that fails is rolled back alone while the others still commit.
    this.groupTx = sqlite.transaction((jobs: readonly GroupJob[]) =>
      jobs.map((j): GroupOutcome => {
        try {
          return { ok: true, ack: this.ingestTx(j.gatewayNum, j.batch, j.now) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /** Stores a batch in one transaction and returns the acks of every boot epoch it touched. */
  ingest(gatewayNum: number, batch: IngestBatch, now = Date.now()): TelemetryAck {
    return this.ingestTx(gatewayNum, batch, now);
  }

  /**
   * Like ingest, but batches that arrive in the same turn of the event loop (several gateways,
   * or one gateway with batches in flight) share one commit. The promise resolves only after that
   * commit, so an ack still means stored. A commit cost about a third of a 500-reading batch.
   */
  ingestGrouped(gatewayNum: number, batch: IngestBatch, now = Date.now()): Promise<TelemetryAck> {
    return new Promise((resolve, reject) => {
      this.pending.push({ gatewayNum, batch, now, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.pending;
    this.pending = [];
    let outcomes: GroupOutcome[];
    try {
      outcomes = this.groupTx(jobs);
    } catch (error) {
      // The commit itself failed (or the database is closed): nothing of the group is stored.
      this.channelCache.clear();
      for (const j of jobs) j.reject(error);
      return;
    }
    for (let i = 0; i < jobs.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) jobs[i]!.resolve(o.ack);
      else {
        this.channelCache.clear(); // a channel row made by the rolled-back batch is gone again
        jobs[i]!.reject(o.error);
      }
    }
  }

  /** Every watermark held for a gateway (sent after hello so a gateway can trim after an outage). */
  watermarks(gatewayNum: number): AckEntry[] {
    return this.selectWatermarks.all(gatewayNum) as AckEntry[];
  }

  private channelId(gatewayNum: number, r: ReadingRecord): number {
    let perGateway = this.channelCache.get(gatewayNum);
    if (!perGateway) {
      perGateway = new Map();
      this.channelCache.set(gatewayNum, perGateway);
    }
    let c = perGateway.get(r.channel);
    if (!c) {
      this.insertChannel.run(gatewayNum, r.channel, r.unit ?? null, r.kind ?? null);
      c = this.selectChannel.get(gatewayNum, r.channel) as {
        id: number;
        unit: string | null;
        kind: string | null;
      };
      perGateway.set(r.channel, c);
    }
    if ((r.unit !== undefined && r.unit !== c.unit) || (r.kind !== undefined && r.kind !== c.kind)) {
      c = { id: c.id, unit: r.unit ?? c.unit, kind: r.kind ?? c.kind };
      this.updateChannelMeta.run(c.unit, c.kind, c.id);
      perGateway.set(r.channel, c);
    }
    return c.id;
  }

  private ingestInTx(gatewayNum: number, batch: IngestBatch, now: number): TelemetryAck {
    let stored = 0;
    const epochs = new Map<number, Set<number>>();
    const note = (bootEpoch: number, seq: number) => {
      let set = epochs.get(bootEpoch);
      if (!set) {
        set = new Set();
        epochs.set(bootEpoch, set);
      }
      set.add(seq);
    };
    const quarter = new Map<number, Rollup>();
    for (const r of batch.readings) {
      note(r.bootEpoch, r.seq);
      const channelId = this.channelId(gatewayNum, r);
      const res = this.insertReading.run(
        gatewayNum,
        r.bootEpoch,
        r.seq,
        channelId,
        r.ts,
        r.value,
        QUALITY[r.quality],
      );
      if (res.changes === 0) continue;
      stored++;
      // Only newly stored, usable values enter the rollups, so a resent batch never counts twice.
      if (r.value === null || r.quality === 'bad') continue;
      // Aggregate per 15 minutes here (one numeric map key per reading); hours and days are
      // merged from these below.
      const idx = Math.floor(r.ts / 900_000);
      const key = channelId * 1e8 + idx;
      const agg = quarter.get(key);
      if (!agg) {
        quarter.set(key, {
          channelId,
          bucketS: 900,
          bucketStart: idx * 900_000,
          count: 1,
          sum: r.value,
          min: r.value,
          max: r.value,
          firstTs: r.ts,
          first: r.value,
          lastTs: r.ts,
          last: r.value,
        });
      } else {
        addValue(agg, r.ts, r.value);
      }
    }
    for (const e of batch.events) {
      note(e.bootEpoch, e.seq);
      const res = this.insertEvent.run(
        gatewayNum,
        e.bootEpoch,
        e.seq,
        e.ts,
        e.kind,
        e.severity,
        JSON.stringify(e.data ?? {}),
      );
      stored += res.changes;
    }
    const coarser = new Map<string, Rollup>();
    for (const q of quarter.values()) {
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

    const acks: AckEntry[] = [];
    for (const [bootEpoch, seqs] of epochs) {
      const before = (this.selectWatermark.get(gatewayNum, bootEpoch) as number | undefined) ?? 0;
      let seq = before;
      // Walk up from the watermark: through this batch in memory, then through rows stored
      // earlier (records that arrived before a gap was filled), until the first missing seq.
      for (;;) {
        if (seqs.has(seq + 1)) seq++;
        else if (
          this.storedAt.get(gatewayNum, bootEpoch, seq + 1, gatewayNum, bootEpoch, seq + 1) !== undefined
        )
          seq++;
        else break;
      }
      if (seq !== before || before === 0) this.upsertWatermark.run(gatewayNum, bootEpoch, seq, now);
      acks.push({ bootEpoch, seq });
    }
    acks.sort((a, b) => a.bootEpoch - b.bootEpoch);
    const total = batch.readings.length + batch.events.length;
    return { acks, stored, duplicates: total - stored };
  }
}
