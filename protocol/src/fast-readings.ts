// A hand-written check of reading records that agrees with readingRecordSchema (a property test
// holds them equal) but costs a fraction of it: ingest runs it on every record of every batch that
// sends records rather than columns (telemetry/columns.ts), and falls back to zod only to describe
// a record that fails.
import { channelKindSchema, MAX_BATCH_RECORDS, QUALITY_CODES } from './messages.ts';

const KEYS = new Set(['bootEpoch', 'seq', 'ts', 'channel', 'value', 'quality', 'unit', 'kind']);
const QUALITIES = new Set<unknown>(QUALITY_CODES);
const KINDS = new Set<unknown>(channelKindSchema.options);

/** A safe integer ≥ min, as the schemas' `.int()` bounds take it. */
export function isIntAtLeast(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** A channel's key, unit and kind as readingRecordSchema (and readingChannelSchema) take them. */
export function isValidChannel(key: unknown, unit: unknown, kind: unknown): boolean {
  if (typeof key !== 'string' || key.length < 1 || key.length > 200) return false;
  if (unit !== undefined && (typeof unit !== 'string' || unit.length > 32)) return false;
  return kind === undefined || KINDS.has(kind);
}

export function isValidReading(r: unknown): boolean {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return false;
  const o = r as Record<string, unknown>;
  for (const k in o) if (!KEYS.has(k)) return false;
  if (!isIntAtLeast(o.bootEpoch, 0) || !isIntAtLeast(o.seq, 1) || !isIntAtLeast(o.ts, 0)) return false;
  const v = o.value;
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) return false;
  if (!QUALITIES.has(o.quality)) return false;
  return isValidChannel(o.channel, o.unit, o.kind);
}

/** True when `readings` is an array that readingsField accepts unchanged. */
export function areValidReadings(readings: unknown): boolean {
  if (!Array.isArray(readings) || readings.length > MAX_BATCH_RECORDS) return false;
  for (const r of readings) if (!isValidReading(r)) return false;
  return true;
}
