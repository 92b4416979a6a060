// A batch's readings as typed-array columns: what the event loop decodes a telemetry body into,
// what moves to the writer thread without a copy (writer.ts), and what TelemetryStore stores from.
// Structured-cloning 500 reading objects would cost about as much as parsing them again, and
// making those objects on the writer thread cost it garbage collection.
//
// decodeTelemetryValue is the fast path for a parsed telemetry body or message: a hand-written
// check that agrees with the zod schemas (property-tested) and fills the columns in the same pass.
// Anything it does not take comes back as 'other', for the zod schema to parse and explain.
import {
  areValidReadings,
  ChannelEntries,
  type EventRecord,
  isIntAtLeast,
  isValidChannel,
  MAX_BATCH_RECORDS,
  QUALITY_CODE,
  type ReadingChannel,
  type ReadingColumnsWire,
  type ReadingRecord,
  readingOf,
  telemetryEventsSchema,
} from '@brana/protocol';

export interface ReadingColumns {
  count: number;
  /** bootEpoch, seq, ts and value of each reading (value NaN for null). */
  numbers: Float64Array;
  /** Quality of each reading as an index into QUALITY_CODES (0 good, 1 uncertain, 2 bad). */
  quality: Uint8Array;
  /** Each reading's entry in `channels`. */
  channel: Int32Array;
  /** Channel key and metadata, as in the wire's column form. */
  channels: ReadingChannel[];
}

/** A telemetry batch as the server takes it in: its readings as columns, its events, its id. */
export interface TelemetryIn {
  batchId?: string;
  columns: ReadingColumns;
  events: EventRecord[];
}

export type DecodedTelemetry =
  | ({ kind: 'readings' } & TelemetryIn)
  /** Not something the fast path takes (or not JSON): parse it with the zod schema. */
  | { kind: 'other' };

export type BodyShape = 'batch' | 'message';

function allocate(count: number, channels: ReadingChannel[]): ReadingColumns {
  return {
    count,
    numbers: new Float64Array(count * 4),
    quality: new Uint8Array(count),
    channel: new Int32Array(count),
    channels,
  };
}

/** The columns of reading records (checked already). */
export function columnsFromRecords(readings: readonly ReadingRecord[]): ReadingColumns {
  const c = allocate(readings.length, []);
  const entries = new ChannelEntries(c.channels);
  const { numbers, quality, channel } = c;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    numbers[i * 4] = r.bootEpoch;
    numbers[i * 4 + 1] = r.seq;
    numbers[i * 4 + 2] = r.ts;
    numbers[i * 4 + 3] = r.value === null ? Number.NaN : r.value;
    quality[i] = QUALITY_CODE[r.quality] ?? 2; // unchecked records: an unknown quality is not good
    channel[i] = entries.indexOf(r.channel, r.unit, r.kind);
  }
  return c;
}

/** Readings as columns, made from records when they come as records. */
export function asColumns(readings: readonly ReadingRecord[] | ReadingColumns): ReadingColumns {
  return Array.isArray(readings) ? columnsFromRecords(readings) : (readings as ReadingColumns);
}

/** The columns of a column batch as the zod schema parsed it. */
export function columnsFromWire(w: ReadingColumnsWire): ReadingColumns {
  const n = w.seq.length;
  const c = allocate(n, w.channels);
  for (let i = 0; i < n; i++) {
    const value = w.value[i]!;
    c.numbers[i * 4] = w.bootEpoch[i]!;
    c.numbers[i * 4 + 1] = w.seq[i]!;
    c.numbers[i * 4 + 2] = w.ts[i]!;
    c.numbers[i * 4 + 3] = value === null ? Number.NaN : value;
    c.quality[i] = w.quality[i]!;
    c.channel[i] = w.channel[i]!;
  }
  return c;
}

/** A batch the zod schema parsed, its readings as columns in whichever form it sent them. */
export function telemetryOfParsed(b: {
  batchId?: string;
  readings: readonly ReadingRecord[];
  columns?: ReadingColumnsWire;
  events: EventRecord[];
}): TelemetryIn {
  const out: TelemetryIn = {
    columns: b.columns !== undefined ? columnsFromWire(b.columns) : columnsFromRecords(b.readings),
    events: b.events,
  };
  if (b.batchId !== undefined) out.batchId = b.batchId;
  return out;
}

/** The records the columns hold (for live pages and tests). */
export function toReadings(c: ReadingColumns): ReadingRecord[] {
  const out = new Array<ReadingRecord>(c.count);
  const { numbers, quality, channel, channels } = c;
  for (let i = 0; i < c.count; i++) {
    const value = numbers[i * 4 + 3]!;
    out[i] = readingOf(
      channels[channel[i]!]!,
      numbers[i * 4]!,
      numbers[i * 4 + 1]!,
      numbers[i * 4 + 2]!,
      Number.isNaN(value) ? null : value,
      quality[i]!,
    );
  }
  return out;
}

/** The typed arrays of the columns, to move them to another thread instead of copying. */
export function transferList(c: ReadingColumns): ArrayBuffer[] {
  return [c.numbers.buffer as ArrayBuffer, c.quality.buffer as ArrayBuffer, c.channel.buffer as ArrayBuffer];
}

// ------------------------------------------------------------------ the fast path

const BATCH_KEYS = new Set(['readings', 'columns', 'events']);
const MESSAGE_KEYS = new Set(['type', 'batchId', 'readings', 'columns', 'events']);
const COLUMN_NAMES = ['channels', 'channel', 'bootEpoch', 'seq', 'ts', 'value', 'quality'] as const;
const COLUMN_KEYS = new Set<string>(COLUMN_NAMES);
const CHANNEL_KEYS = new Set(['key', 'unit', 'kind']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function onlyKeys(o: Record<string, unknown>, keys: Set<string>): boolean {
  for (const k in o) if (!keys.has(k)) return false;
  return true;
}

function isChannel(v: unknown): v is ReadingChannel {
  return isObject(v) && onlyKeys(v, CHANNEL_KEYS) && isValidChannel(v.key, v.unit, v.kind);
}

/** Column-form readings as readingColumnsSchema accepts them, decoded in the same pass; else null. */
function fastColumns(v: unknown): ReadingColumns | null {
  if (!isObject(v) || !onlyKeys(v, COLUMN_KEYS)) return null;
  for (const name of COLUMN_NAMES) {
    const col = v[name];
    if (!Array.isArray(col) || col.length > MAX_BATCH_RECORDS) return null;
  }
  const channels = v.channels as unknown[];
  const channel = v.channel as unknown[];
  const bootEpoch = v.bootEpoch as unknown[];
  const seq = v.seq as unknown[];
  const ts = v.ts as unknown[];
  const value = v.value as unknown[];
  const quality = v.quality as unknown[];
  const n = seq.length;
  if (channel.length !== n || bootEpoch.length !== n || ts.length !== n) return null;
  if (value.length !== n || quality.length !== n) return null;
  for (const ch of channels) if (!isChannel(ch)) return null;
  const c = allocate(n, channels as ReadingChannel[]);
  const { numbers, quality: q, channel: chIndex } = c;
  const nChannels = channels.length;
  for (let i = 0; i < n; i++) {
    const e = bootEpoch[i];
    const s = seq[i];
    const t = ts[i];
    const x = value[i];
    const k = channel[i];
    const g = quality[i];
    if (!isIntAtLeast(e, 0) || !isIntAtLeast(s, 1) || !isIntAtLeast(t, 0)) return null;
    if (!isIntAtLeast(k, 0) || k >= nChannels) return null;
    if (g !== 0 && g !== 1 && g !== 2) return null;
    if (x === null) numbers[i * 4 + 3] = Number.NaN;
    else if (typeof x === 'number' && Number.isFinite(x)) numbers[i * 4 + 3] = x;
    else return null;
    numbers[i * 4] = e;
    numbers[i * 4 + 1] = s;
    numbers[i * 4 + 2] = t;
    chIndex[i] = k;
    q[i] = g;
  }
  return c;
}

/**
 * A parsed telemetry body ('batch') or WebSocket message ('message') as columns and events, when
 * the schemas would take it as it is; else 'other'.
 */
export function decodeTelemetryValue(json: unknown, shape: BodyShape): DecodedTelemetry {
  const other = { kind: 'other' } as const;
  if (!isObject(json) || !onlyKeys(json, shape === 'batch' ? BATCH_KEYS : MESSAGE_KEYS)) return other;
  if (shape === 'message') {
    if (json.type !== 'telemetry') return other;
    const id = json.batchId;
    if (id !== undefined && (typeof id !== 'string' || id.length > 64)) return other;
  }
  const { readings, columns: wire, events: rawEvents } = json;
  let columns: ReadingColumns | null;
  if (wire !== undefined) {
    if (readings !== undefined && !(Array.isArray(readings) && readings.length === 0)) return other;
    columns = fastColumns(wire);
  } else {
    const records = readings ?? [];
    columns = areValidReadings(records) ? columnsFromRecords(records as ReadingRecord[]) : null;
  }
  if (!columns) return other;
  let events: EventRecord[] = [];
  if (rawEvents !== undefined && !(Array.isArray(rawEvents) && rawEvents.length === 0)) {
    // Events are few and varied (their data is free-form): the schema checks them.
    const parsed = telemetryEventsSchema.safeParse(rawEvents);
    if (!parsed.success) return other;
    events = parsed.data;
  }
  if (columns.count + events.length > MAX_BATCH_RECORDS) return other;
  const out: DecodedTelemetry = { kind: 'readings', columns, events };
  if (typeof json.batchId === 'string') out.batchId = json.batchId;
  return out;
}
