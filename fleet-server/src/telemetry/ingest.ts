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

export interface IngestBatch {
  readings: readonly ReadingRecord[];
  events: readonly EventRecordInput[];
}

export class TelemetryStore {
  private readonly insertReading: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly upsertRollup: Database.Statement;
  private readonly insertChannel: Database.Statement;
  private readonly selectChannel: Database.Statement;
  private readonly updateChannelMeta: Database.Statement;
  private readonly selectWatermark: Database.Statement;
  private readonly upsertWatermark: Database.Statement;
  private readonly storedAfter: Database.Statement;
  private readonly selectWatermarks: Database.Statement;
  private readonly channelCache = new Map<string, { id: number; unit: string | null; kind: string | null }>();
  private readonly ingestTx: (gatewayNum: number, batch: IngestBatch, now: number) => TelemetryAck;

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
    this.storedAfter = sqlite
      .prepare(`
      SELECT seq FROM readings WHERE gateway_num = @g AND boot_epoch = @e AND seq > @s
      UNION ALL
      SELECT seq FROM events WHERE gateway_num = @g AND boot_epoch = @e AND seq > @s
      ORDER BY seq`)
      .pluck();
    this.selectWatermarks = sqlite.prepare(
      'SELECT boot_epoch AS bootEpoch, seq FROM ingest_watermarks WHERE gateway_num = ? ORDER BY boot_epoch',
    );
    this.ingestTx = sqlite.transaction((g: number, b: IngestBatch, now: number) =>
      this.ingestInTx(g, b, now),
    );
  }

  /** Stores a batch in one transaction and returns the acks of every boot epoch it touched. */
  ingest(gatewayNum: number, batch: IngestBatch, now = Date.now()): TelemetryAck {
    return this.ingestTx(gatewayNum, batch, now);
  }

  /** Every watermark held for a gateway (sent after hello so a gateway can trim after an outage). */
  watermarks(gatewayNum: number): AckEntry[] {
    return this.selectWatermarks.all(gatewayNum) as AckEntry[];
  }

  private channelId(gatewayNum: number, r: ReadingRecord): number {
    const cacheKey = `${gatewayNum}\u0000${r.channel}`;
    let c = this.channelCache.get(cacheKey);
    if (!c) {
      this.insertChannel.run(gatewayNum, r.channel, r.unit ?? null, r.kind ?? null);
      c = this.selectChannel.get(gatewayNum, r.channel) as {
        id: number;
        unit: string | null;
        kind: string | null;
      };
      this.channelCache.set(cacheKey, c);
    }
    if ((r.unit !== undefined && r.unit !== c.unit) || (r.kind !== undefined && r.kind !== c.kind)) {
      c = { id: c.id, unit: r.unit ?? c.unit, kind: r.kind ?? c.kind };
      this.updateChannelMeta.run(c.unit, c.kind, c.id);
      this.channelCache.set(cacheKey, c);
    }
    return c.id;
  }

  private ingestInTx(gatewayNum: number, batch: IngestBatch, now: number): TelemetryAck {
    let stored = 0;
    const epochs = new Set<number>();
    const rollups = new Map<string, Rollup>();
    for (const r of batch.readings) {
      epochs.add(r.bootEpoch);
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
      if (r.value === null || r.quality === 'bad' || !Number.isFinite(r.value)) continue;
      for (const bucketS of ROLLUP_BUCKETS_S) {
        const bucketMs = bucketS * 1000;
        const bucketStart = Math.floor(r.ts / bucketMs) * bucketMs;
        const key = `${channelId}:${bucketS}:${bucketStart}`;
        const agg = rollups.get(key);
        if (!agg) {
          rollups.set(key, {
            channelId,
            bucketS,
            bucketStart,
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
          agg.count++;
          agg.sum += r.value;
          if (r.value < agg.min) agg.min = r.value;
          if (r.value > agg.max) agg.max = r.value;
          if (r.ts < agg.firstTs) {
            agg.firstTs = r.ts;
            agg.first = r.value;
          }
          if (r.ts >= agg.lastTs) {
            agg.lastTs = r.ts;
            agg.last = r.value;
          }
        }
      }
    }
    for (const e of batch.events) {
      epochs.add(e.bootEpoch);
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
    for (const agg of rollups.values()) this.upsertRollup.run(agg);

    const acks: AckEntry[] = [];
    for (const bootEpoch of [...epochs].sort((a, b) => a - b)) {
      const before = (this.selectWatermark.get(gatewayNum, bootEpoch) as number | undefined) ?? 0;
      let seq = before;
      // Walk the stored sequence numbers above the watermark until the first gap.
      for (const s of this.storedAfter.iterate({
        g: gatewayNum,
        e: bootEpoch,
        s: before,
      }) as Iterable<number>) {
        if (s !== seq + 1) break;
        seq = s;
      }
      if (seq !== before || before === 0) this.upsertWatermark.run(gatewayNum, bootEpoch, seq, now);
      acks.push({ bootEpoch, seq });
    }
    const total = batch.readings.length + batch.events.length;
    return { acks, stored, duplicates: total - stored };
  }
}
