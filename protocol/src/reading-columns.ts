// Reading records ⇄ the column form of a telemetry batch (readingColumnsSchema). Gateways encode
// their readings this way before they send them; the server decodes the columns straight into
// typed arrays (telemetry/columns.ts) and needs readingsFromColumns only to show them.
import {
  QUALITY_CODE,
  QUALITY_CODES,
  type ReadingChannel,
  type ReadingColumnsWire,
  type ReadingRecord,
} from './messages.ts';

/** The column form of `readings` (in the same order); one channel entry per key, unit and kind. */
export function encodeReadingColumns(readings: readonly ReadingRecord[]): ReadingColumnsWire {
  const n = readings.length;
  const out: ReadingColumnsWire = {
    channels: [],
    channel: new Array<number>(n),
    bootEpoch: new Array<number>(n),
    seq: new Array<number>(n),
    ts: new Array<number>(n),
    value: new Array<number | null>(n),
    quality: new Array<number>(n),
  };
  const entries = new ChannelEntries(out.channels);
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    out.channel[i] = entries.indexOf(r.channel, r.unit, r.kind);
    out.bootEpoch[i] = r.bootEpoch;
    out.seq[i] = r.seq;
    out.ts[i] = r.ts;
    out.value[i] = r.value;
    out.quality[i] = QUALITY_CODE[r.quality];
  }
  return out;
}

/** How a sender puts a batch's readings on the wire. */
export type ReadingsForm = 'columns' | 'records';

/**
 * The readings part of a telemetry batch or message: `{ columns }` (what the gateway agent sends)
 * or `{ readings }` (records; also for no readings at all).
 */
export function readingsPart(
  readings: ReadingRecord[],
  form: ReadingsForm = 'columns',
): { readings: ReadingRecord[] } | { columns: ReadingColumnsWire } {
  return form === 'records' || readings.length === 0
    ? { readings }
    : { columns: encodeReadingColumns(readings) };
}

/** The reading record of one column entry: its channel's key, and unit and kind when it has them. */
export function readingOf(
  ch: ReadingChannel,
  bootEpoch: number,
  seq: number,
  ts: number,
  value: number | null,
  quality: number,
): ReadingRecord {
  const r: ReadingRecord = { bootEpoch, seq, ts, channel: ch.key, value, quality: QUALITY_CODES[quality]! };
  if (ch.unit !== undefined) r.unit = ch.unit;
  if (ch.kind !== undefined) r.kind = ch.kind;
  return r;
}

/** The reading records of a column batch (checked with readingColumnsSchema first). */
export function readingsFromColumns(c: ReadingColumnsWire): ReadingRecord[] {
  const out = new Array<ReadingRecord>(c.seq.length);
  for (let i = 0; i < out.length; i++)
    out[i] = readingOf(
      c.channels[c.channel[i]!]!,
      c.bootEpoch[i]!,
      c.seq[i]!,
      c.ts[i]!,
      c.value[i]!,
      c.quality[i]!,
    );
  return out;
}

/**
 * Channel entries by (key, unit, kind): one Map look-up per reading when a channel keeps its
 * metadata (the usual case), a second one only when it changes.
 */
export class ChannelEntries {
  private readonly byKey = new Map<string, number>();
  private readonly byAll = new Map<string, number>();

  constructor(readonly channels: ReadingChannel[]) {}

  indexOf(key: string, unit: string | undefined, kind: ReadingChannel['kind']): number {
    const i = this.byKey.get(key);
    if (i !== undefined) {
      const c = this.channels[i]!;
      if (c.unit === unit && c.kind === kind) return i;
    }
    // Key, unit (which may be '') and kind in one string: each part's length is spelled out, so no
    // two different triples give the same string whatever characters they hold.
    const full = `${key.length}:${key}${unit === undefined ? '-' : `${unit.length}:${unit}`}${kind ?? '-'}`;
    let j = this.byAll.get(full);
    if (j === undefined) {
      j = this.channels.length;
      const c: ReadingChannel = { key };
      if (unit !== undefined) c.unit = unit;
      if (kind !== undefined) c.kind = kind;
      this.channels.push(c);
      this.byAll.set(full, j);
    }
    this.byKey.set(key, j);
    return j;
  }
}
