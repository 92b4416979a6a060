// Record keys (gateway, boot epoch, seq): which of a batch's readings are stored already, and the
// acks, per boot epoch the highest seq below which nothing is missing (the stored watermark walked
// up through this batch and rows stored earlier).
import type { AckEntry } from '@brana/protocol';
import type Database from 'better-sqlite3';
import type { ReadingColumns } from './columns.ts';

export /** What one batch holds for one boot epoch. */
interface EpochSpan {
  min: number;
  max: number;
  readings: number;
  /** Reading seqs strictly rising within the batch (then no reading repeats inside it). */
  rising: boolean;
  lastReadingSeq: number;
  /** Every seq of the batch in this epoch (readings and events), for the ack walk. */
  seqs: number[];
  /** Seqs of readings stored before this batch (or earlier in it), when any may be. */
  stored: Set<number> | null;
}

export class SequenceIndex {
  private readonly selectWatermark: Database.Statement;
  private readonly upsertWatermark: Database.Statement;
  private readonly storedAt: Database.Statement;
  private readonly readingSeqsBetween: Database.Statement;
  private readonly readingAt: Database.Statement;
  private readonly selectWatermarks: Database.Statement;

  constructor(sqlite: Database.Database) {
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
    this.readingSeqsBetween = sqlite
      .prepare('SELECT seq FROM readings WHERE gateway_num = ? AND boot_epoch = ? AND seq BETWEEN ? AND ?')
      .pluck();
    this.readingAt = sqlite
      .prepare('SELECT 1 FROM readings WHERE gateway_num = ? AND boot_epoch = ? AND seq = ?')
      .pluck();
    this.selectWatermarks = sqlite.prepare(
      'SELECT boot_epoch AS bootEpoch, seq FROM ingest_watermarks WHERE gateway_num = ? ORDER BY boot_epoch',
    );
  }

  /** Every watermark held for a gateway. */
  watermarks(gatewayNum: number): AckEntry[] {
    return this.selectWatermarks.all(gatewayNum) as AckEntry[];
  }

  /** The boot epochs of a batch, with which of its readings may be stored already. */
  spans(
    gatewayNum: number,
    readings: ReadingColumns,
    events: readonly { bootEpoch: number; seq: number }[],
  ): Map<number, EpochSpan> {
    const spans = new Map<number, EpochSpan>();
    const spanOf = (bootEpoch: number, seq: number): EpochSpan => {
      let s = spans.get(bootEpoch);
      if (!s) {
        s = { min: seq, max: seq, readings: 0, rising: true, lastReadingSeq: 0, seqs: [], stored: null };
        spans.set(bootEpoch, s);
      }
      return s;
    };
    let span: EpochSpan | undefined;
    let spanEpoch = -1;
    const { count, numbers } = readings;
    for (let i = 0; i < count; i++) {
      const bootEpoch = numbers[i * 4]!;
      const seq = numbers[i * 4 + 1]!;
      if (bootEpoch !== spanEpoch) {
        span = spanOf(bootEpoch, seq);
        spanEpoch = bootEpoch;
      }
      const s = span!;
      if (seq < s.min) s.min = seq;
      if (seq > s.max) s.max = seq;
      if (seq <= s.lastReadingSeq) s.rising = false;
      s.lastReadingSeq = seq;
      s.readings++;
      s.seqs.push(seq);
    }
    for (const e of events) {
      const s = spanOf(e.bootEpoch, e.seq);
      s.seqs.push(e.seq);
    }
    for (const [bootEpoch, s] of spans) {
      if (s.readings === 0) continue;
      let stored: number[];
      // One range read on the (gateway, epoch, seq) index when the batch's seqs are dense (a fresh
      // batch finds nothing there); a point look-up per reading when they are scattered.
      if (s.max - s.min < 2 * s.readings + 64) {
        stored = this.readingSeqsBetween.all(gatewayNum, bootEpoch, s.min, s.max) as number[];
      } else {
        stored = [];
        for (let i = 0; i < count; i++) {
          const seq = numbers[i * 4 + 1]!;
          if (numbers[i * 4] === bootEpoch && this.readingAt.get(gatewayNum, bootEpoch, seq) !== undefined)
            stored.push(seq);
        }
      }
      if (stored.length > 0 || !s.rising) s.stored = new Set(stored);
    }
    return spans;
  }

  /** The acks of a batch whose new records are written; moves the stored watermarks. */
  acks(gatewayNum: number, spans: Map<number, EpochSpan>, now: number): AckEntry[] {
    const acks: AckEntry[] = [];
    for (const [bootEpoch, s] of spans) {
      const before = (this.selectWatermark.get(gatewayNum, bootEpoch) as number | undefined) ?? 0;
      const seqs = s.seqs;
      if (!s.rising || s.readings !== seqs.length) seqs.sort((a, b) => a - b);
      let seq = before;
      let i = 0;
      // Walk up from the watermark: through this batch, then through rows stored earlier
      // (records that arrived before a gap was filled), until the first missing seq.
      for (;;) {
        while (i < seqs.length && seqs[i]! <= seq) i++;
        if (i < seqs.length && seqs[i] === seq + 1) seq++;
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
    return acks;
  }
}
