// A hand-written check of reading records that agrees with readingRecordSchema (a property test
// holds them equal) but costs a fraction of it: ingest runs it on every record of every batch, and
// falls back to zod only to describe a record that fails.
import { MAX_BATCH_RECORDS, type ReadingRecord } from './messages.ts';

const KEYS = new Set(['bootEpoch', 'seq', 'ts', 'channel', 'value', 'quality', 'unit', 'kind']);
const QUALITIES = new Set(['good', 'uncertain', 'bad']);
const KINDS = new Set(['counter', 'gauge', 'status']);

function isInt(v: unknown, min: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

export function isValidReading(r: unknown): boolean {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return false;
  const o = r as Record<string, unknown>;
  for (const k in o) if (!KEYS.has(k)) return false;
  if (!isInt(o.bootEpoch, 0) || !isInt(o.seq, 1) || !isInt(o.ts, 0)) return false;
  const ch = o.channel;
  if (typeof ch !== 'string' || ch.length < 1 || ch.length > 200) return false;
  const v = o.value;
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) return false;
  if (typeof o.quality !== 'string' || !QUALITIES.has(o.quality)) return false;
  if (o.unit !== undefined && (typeof o.unit !== 'string' || o.unit.length > 32)) return false;
  if (o.kind !== undefined && (typeof o.kind !== 'string' || !KINDS.has(o.kind))) return false;
  return true;
}

/** True when `readings` is an array that readingsField accepts unchanged. */
export function areValidReadings(readings: unknown): boolean {
  if (!Array.isArray(readings) || readings.length > MAX_BATCH_RECORDS) return false;
  for (const r of readings) if (!isValidReading(r)) return false;
  return true;
}

const BATCH_KEYS = new Set(['readings', 'events']);
const MESSAGE_KEYS = new Set(['type', 'batchId', 'readings', 'events']);

/**
 * The fast path for a telemetry batch (HTTP body) or telemetry message (WebSocket): returns the
 * readings as they are when every one is valid and no events need defaults filled in, or null,
 * in which case the caller parses with the zod schema (which also explains what is wrong).
 */
export function fastTelemetry(
  json: unknown,
  shape: 'batch' | 'message',
): { batchId?: string; readings: ReadingRecord[]; events: [] } | null {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return null;
  const o = json as Record<string, unknown>;
  const keys = shape === 'batch' ? BATCH_KEYS : MESSAGE_KEYS;
  for (const k in o) if (!keys.has(k)) return null;
  if (shape === 'message') {
    if (o.type !== 'telemetry') return null;
    if (o.batchId !== undefined && (typeof o.batchId !== 'string' || o.batchId.length > 64)) return null;
  }
  if (o.events !== undefined && !(Array.isArray(o.events) && o.events.length === 0)) return null;
  const readings = o.readings ?? [];
  if (!areValidReadings(readings)) return null;
  const out: { batchId?: string; readings: ReadingRecord[]; events: [] } = {
    readings: readings as ReadingRecord[],
    events: [],
  };
  if (typeof o.batchId === 'string') out.batchId = o.batchId;
  return out;
}
