// The journal's on-disk form of a group of records (a "chunk"): compact enough that a meter
// reading costs a few bytes on the SD card instead of its ~130 bytes of JSON. Readings are binary
// (channel by a number from the journal's channel dictionary, time as a delta, value as an integer
// varint, a float32 when it is exactly one — what most meters send — or a float64); events,
// status records and any reading the compact form cannot hold exactly go as JSON. Decoding gives
// back exactly the records that were encoded (property-tested). A CRC-32 covers every chunk, since
// SQLite checks its pages' structure but not the bytes of a blob, and SD cards do flip bits: a
// damaged chunk is reported, never read as wrong values.
//
// Layout: format (1 byte), flags (1: deflated), CRC-32 of the flags and the body (4 bytes, LE), then the
// (maybe deflated) body: the streams (source, boot epoch, first seq), the record count, records.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ParsedAgentRecord } from '@brana/firmware';

/** A record as the journal holds it: who sent it under which number, and the record itself. */
export interface JournalRecord {
  /** 'rt', 'fieldbus', or 'agent' for the journal's own reports. */
  source: string;
  bootEpoch: number;
  seq: number;
  record: ParsedAgentRecord;
}

/** The journal's channel dictionary: a reading's (channel, unit, kind) as a small number. */
export interface ChannelDictionary {
  /** The number for this channel, made if new; undefined when the dictionary is full. */
  ref(channel: string, unit: string | undefined, kind: ChannelKind | undefined): number | undefined;
  lookup(ref: number): { channel: string; unit?: string; kind?: ChannelKind } | undefined;
}

type ChannelKind = 'counter' | 'gauge' | 'status';
type Reading = Extract<ParsedAgentRecord, { kind: 'reading' }>;

export const CHUNK_FORMAT = 1;
const FLAG_DEFLATED = 1;
const HEADER_BYTES = 6;
const HEAD_JSON = 1;
const HEAD_GAP = 2;
const HEAD_TIME = 4;
const HEAD_REF = 8;
const QUALITIES = ['good', 'suspect', 'stale', 'uncertain', 'bad'] as const;
const VALUE_NULL = 0;
const VALUE_INT = 1;
const VALUE_F32 = 2;
const VALUE_F64 = 3;
const VALUE_TEXT = 4;
/** Below this a chunk is not worth deflating. */
const DEFLATE_MIN_BYTES = 200;

export class ChunkDecodeError extends Error {
  constructor(
    readonly offset: number,
    problem: string,
  ) {
    super(`chunk byte ${offset}: ${problem}`);
  }
}

/** Encodes records (each stream's seqs rising, as the journal takes them) into one chunk. */
export function encodeChunk(records: readonly JournalRecord[], dict: ChannelDictionary): Buffer {
  const w = new ByteWriter(64 + records.length * 12);
  const streams = new Map<string, { index: number; prev: number }>();
  const streamList: { source: string; bootEpoch: number; first: number }[] = [];
  for (const r of records) {
    const key = `${r.bootEpoch}:${r.source}`;
    if (!streams.has(key)) {
      streams.set(key, { index: streamList.length, prev: r.seq - 1 });
      streamList.push({ source: r.source, bootEpoch: r.bootEpoch, first: r.seq });
    }
  }
  w.uint(streamList.length);
  for (const s of streamList) {
    w.text(s.source);
    w.uint(s.bootEpoch);
    w.uint(s.first);
  }
  w.uint(records.length);
  let prevAt = 0;
  let prevRef = -1;
  let json = false;
  for (const r of records) {
    const stream = streams.get(`${r.bootEpoch}:${r.source}`)!;
    const gap = r.seq - stream.prev - 1;
    if (gap < 0) throw new RangeError(`seq ${r.seq} of ${r.source} does not rise within a chunk`);
    stream.prev = r.seq;
    const rec = r.record;
    const ref = rec.kind === 'reading' ? compactRef(rec, dict) : undefined;
    // Head: bit 0 JSON form, bit 1 a seq gap follows, bit 2 a time delta follows, bit 3 an explicit
    // channel number follows (else the previous one + 1, as a poll reads a device's points in
    // order); the stream index above. A typical reading is then head, tag and a float32: 6 bytes.
    const reading = rec as Reading;
    const atDelta = ref === undefined ? 0 : reading.atMs - prevAt;
    const refJump = ref === undefined || ref !== prevRef + 1;
    w.uint(
      stream.index * 16 +
        (ref === undefined ? HEAD_JSON : 0) +
        (gap > 0 ? HEAD_GAP : 0) +
        (atDelta !== 0 ? HEAD_TIME : 0) +
        (ref !== undefined && refJump ? HEAD_REF : 0),
    );
    if (gap > 0) w.uint(gap);
    if (ref === undefined) {
      w.text(JSON.stringify(rec));
      json = true;
      continue;
    }
    if (atDelta !== 0) w.int(atDelta);
    prevAt = reading.atMs;
    if (refJump) w.uint(ref);
    prevRef = ref;
    const valueType = typeOf(reading.value);
    const hasTotal = reading.total !== undefined;
    w.byte(valueType | (QUALITIES.indexOf(reading.quality) << 3) | (hasTotal ? 64 : 0));
    writeValue(w, valueType, reading.value);
    if (hasTotal) {
      const totalType = typeOf(reading.total!);
      w.byte(totalType);
      writeValue(w, totalType, reading.total!);
    }
  }
  let body = w.done();
  let flags = 0;
  // JSON (events) shrinks a lot; binary readings (mostly float bits) do not, and are left as they are.
  if (json && body.length >= DEFLATE_MIN_BYTES) {
    const packed = deflateRawSync(body);
    if (packed.length < body.length * 0.9) {
      body = packed;
      flags = FLAG_DEFLATED;
    }
  }
  const chunk = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  chunk[0] = CHUNK_FORMAT;
  chunk[1] = flags;
  chunk.writeUInt32LE(crc32(body, crc32(chunk.subarray(1, 2))), 2);
  body.copy(chunk, HEADER_BYTES);
  return chunk;
}

/** Decodes a chunk back into its records; throws ChunkDecodeError on anything malformed. */
export function decodeChunk(chunk: Uint8Array, dict: ChannelDictionary): JournalRecord[] {
  if (chunk.length < HEADER_BYTES) throw new ChunkDecodeError(0, 'shorter than its header');
  if (chunk[0] !== CHUNK_FORMAT) throw new ChunkDecodeError(0, `unknown format ${chunk[0]}`);
  let body: Uint8Array = chunk.subarray(HEADER_BYTES);
  const sum = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).readUInt32LE(2);
  if (crc32(body, crc32(chunk.subarray(1, 2))) !== sum || chunk[1]! > FLAG_DEFLATED)
    throw new ChunkDecodeError(2, 'checksum mismatch (the stored bytes are damaged)');
  if (chunk[1]! & FLAG_DEFLATED) {
    try {
      body = inflateRawSync(body);
    } catch (err) {
      throw new ChunkDecodeError(HEADER_BYTES, `does not inflate (${(err as Error).message})`);
    }
  }
  const r = new ByteReader(body);
  const nStreams = r.uint();
  const streams: { source: string; bootEpoch: number; prev: number }[] = [];
  for (let i = 0; i < nStreams; i++) {
    const source = r.text();
    const bootEpoch = r.uint();
    streams.push({ source, bootEpoch, prev: r.uint() - 1 });
  }
  const n = r.uint();
  const out: JournalRecord[] = [];
  let prevAt = 0;
  let prevRef = -1;
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const head = r.uint();
    const stream = streams[Math.floor(head / 16)];
    if (!stream) throw new ChunkDecodeError(at, `stream ${Math.floor(head / 16)} of ${nStreams}`);
    const seq = stream.prev + 1 + (head & HEAD_GAP ? r.uint() : 0);
    stream.prev = seq;
    let record: ParsedAgentRecord;
    if (head & HEAD_JSON) {
      const textAt = r.offset;
      try {
        record = JSON.parse(r.text()) as ParsedAgentRecord;
      } catch (err) {
        throw new ChunkDecodeError(textAt, `record JSON does not parse (${(err as Error).message})`);
      }
    } else {
      const atMs = prevAt + (head & HEAD_TIME ? r.int() : 0);
      prevAt = atMs;
      const refAt = r.offset;
      const ref = head & HEAD_REF ? r.uint() : prevRef + 1;
      prevRef = ref;
      const ch = dict.lookup(ref);
      if (!ch) throw new ChunkDecodeError(refAt, `unknown channel number ${ref}`);
      const tag = r.byte();
      const quality = QUALITIES[(tag >> 3) & 7];
      if (!quality || tag & 128) throw new ChunkDecodeError(r.offset - 1, `bad value tag ${tag}`);
      const reading: Reading = {
        kind: 'reading',
        channel: ch.channel,
        atMs,
        value: readValue(r, tag & 7),
        quality,
      };
      if (ch.unit !== undefined) reading.unit = ch.unit;
      if (ch.kind !== undefined) reading.channelKind = ch.kind;
      if (tag & 64) {
        const total = readValue(r, r.byte());
        if (typeof total !== 'number')
          throw new ChunkDecodeError(r.offset, 'a counter total that is not a number');
        reading.total = total;
      }
      record = reading;
    }
    out.push({ source: stream.source, bootEpoch: stream.bootEpoch, seq, record });
  }
  if (r.offset !== body.length)
    throw new ChunkDecodeError(r.offset, `${body.length - r.offset} bytes after the last record`);
  return out;
}

/** The dictionary number when a reading fits the compact form exactly; undefined sends it as JSON. */
function compactRef(rec: ParsedAgentRecord, dict: ChannelDictionary): number | undefined {
  const reading = rec as Reading;
  // Only the keys the compact form knows (zod strips others, but a record may be built by hand).
  for (const k of Object.keys(reading)) if (!READING_KEYS.has(k)) return undefined;
  if (!Number.isSafeInteger(reading.atMs) || reading.atMs >= 2 ** 52) return undefined;
  if (reading.total !== undefined && typeof reading.total !== 'number') return undefined;
  return dict.ref(reading.channel, reading.unit, reading.channelKind);
}

const READING_KEYS = new Set(['kind', 'channel', 'atMs', 'value', 'quality', 'unit', 'channelKind', 'total']);

function typeOf(v: number | string | null): number {
  if (v === null) return VALUE_NULL;
  if (typeof v === 'string') return VALUE_TEXT;
  // Zigzag doubles the magnitude, so integers up to 2^52 go as varints; larger ones as floats.
  if (Number.isSafeInteger(v) && Math.abs(v) < 2 ** 52 && !Object.is(v, -0)) return VALUE_INT;
  if (Math.fround(v) === v || Number.isNaN(v)) return VALUE_F32;
  return VALUE_F64;
}

function writeValue(w: ByteWriter, type: number, v: number | string | null): void {
  if (type === VALUE_INT) w.int(v as number);
  else if (type === VALUE_F32) w.f32(v as number);
  else if (type === VALUE_F64) w.f64(v as number);
  else if (type === VALUE_TEXT) w.text(v as string);
}

function readValue(r: ByteReader, type: number): number | string | null {
  switch (type) {
    case VALUE_NULL:
      return null;
    case VALUE_INT:
      return r.int();
    case VALUE_F32:
      return r.f32();
    case VALUE_F64:
      return r.f64();
    case VALUE_TEXT:
      return r.text();
    default:
      throw new ChunkDecodeError(r.offset, `unknown value type ${type}`);
  }
}

/** Little-endian bytes with LEB128 varints for non-negative safe integers (zigzag for signed). */
class ByteWriter {
  #buf: Buffer;
  #at = 0;
  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size);
  }
  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#at++] = b;
  }
  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a non-negative safe integer`);
    this.#room(8);
    // Division, not bit operations: these numbers go up to 2^53 (millisecond times, boot epochs).
    while (n >= 128) {
      this.#buf[this.#at++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.#buf[this.#at++] = n;
  }
  int(n: number): void {
    this.uint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  f32(v: number): void {
    this.#room(4);
    this.#buf.writeFloatLE(v, this.#at);
    this.#at += 4;
  }
  f64(v: number): void {
    this.#room(8);
    this.#buf.writeDoubleLE(v, this.#at);
    this.#at += 8;
  }
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.uint(n);
    this.#room(n);
    this.#buf.write(s, this.#at, 'utf8');
    this.#at += n;
  }
  done(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }
}

class ByteReader {
  offset = 0;
  readonly #buf: Buffer;
  constructor(bytes: Uint8Array) {
    this.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #need(n: number): void {
    if (this.offset + n > this.#buf.length)
      throw new ChunkDecodeError(this.offset, 'ends in the middle of a record');
  }
  byte(): number {
    this.#need(1);
    return this.#buf[this.offset++]!;
  }
  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 127) * scale;
      if (b < 128) {
        if (!Number.isSafeInteger(n)) break;
        return n;
      }
      scale *= 128;
    }
    throw new ChunkDecodeError(this.offset, 'a number larger than 2^53');
  }
  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  f32(): number {
    this.#need(4);
    const v = this.#buf.readFloatLE(this.offset);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.#need(8);
    const v = this.#buf.readDoubleLE(this.offset);
    this.offset += 8;
    return v;
  }
  text(): string {
    const n = this.uint();
    this.#need(n);
    const s = this.#buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
}
