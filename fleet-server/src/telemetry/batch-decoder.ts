// Telemetry bodies checked and decoded into columns. The signature (SHA-256 of the body, Ed25519)
// is checked before a byte of the body is parsed (checkBodySignature; the route then refuses a
// revoked or rate-limited gateway before it pays for the parse). A plain reading batch becomes a few typed arrays
// and one list of strings, which move to the telemetry writer's thread (writer.ts) without a copy:
// structured-cloning 500 reading objects would cost about as much as parsing them again.
//
// Anything else (events, a bad record, malformed JSON) comes back as 'other', and the caller
// parses it with the zod schema, which also explains what is wrong.
//
// (A worker thread that did this decoding was tried and measured, 2026-12-02: on the 2-core bench
// beside the writer thread it gave an HTTP ingest ratio of 0.475 against 0.50-0.56 without it
// (medians of 3 rounds), and each thread costs ~0.2 s of CPU to load.)
import type { KeyObject } from 'node:crypto';
import { fastTelemetry } from '../protocol/fast-readings.ts';
import { publicKeyFromBase64url } from '../protocol/keys.ts';
import type { ReadingRecord } from '../protocol/messages.ts';
import { verifyGatewayRequest } from '../protocol/session.ts';

/** A signed HTTP request's proof, checked before the body is parsed. */
export interface BodySignature {
  method: string;
  path: string;
  timestamp: string;
  signature: string;
  /** The gateway's enrolled Ed25519 key, base64url as stored. */
  publicKey: string;
  /** The server clock, ms (the caller's: tests run servers on fake clocks). */
  now: number;
}

/** The readings of a batch, column by column. */
export interface ReadingColumns {
  count: number;
  /** bootEpoch, seq, ts and value of each reading (value NaN for null). */
  numbers: Float64Array;
  /** Quality code and kind code of each reading (QUALITIES, KINDS; kind 0 when absent). */
  codes: Uint8Array;
  /** Channel and unit of each reading as indexes into `strings` (unit -1 when absent). */
  refs: Int32Array;
  strings: string[];
}

export type Decoded =
  | { kind: 'readings'; batchId?: string; columns: ReadingColumns }
  /** Not a plain readings batch (or not JSON): parse it with the zod schema. */
  | { kind: 'other' };

export type BodyShape = 'batch' | 'message';

const QUALITIES = ['good', 'uncertain', 'bad'] as const;
const KINDS = [undefined, 'counter', 'gauge', 'status'] as const;

// Decoding an enrolled key costs more than the Ed25519 check itself.
const KEY_CACHE_LIMIT = 10_000;
const keys = new Map<string, KeyObject | string>();
function keyFor(encoded: string): KeyObject | string {
  let key = keys.get(encoded);
  if (key === undefined) {
    try {
      key = publicKeyFromBase64url(encoded);
    } catch {
      key = encoded; // verifyGatewayRequest reports it as not verifying
    }
    if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
    keys.set(encoded, key);
  }
  return key;
}

/**
 * Checks a signed telemetry body before anything in it is read: null when it verifies, else why
 * not (as verifyGatewayRequest says).
 */
export function checkBodySignature(body: Uint8Array, signature: BodySignature): string | null {
  const check = verifyGatewayRequest(
    {
      method: signature.method,
      path: signature.path,
      body,
      timestamp: signature.timestamp,
      signature: signature.signature,
    },
    keyFor(signature.publicKey),
    signature.now,
  );
  return check.ok ? null : check.message;
}

/**
 * Parses and validates a plain reading batch into columns; 'other' for anything else. Check the
 * signature first (checkBodySignature): this reads the body.
 */
export function decodeTelemetry(body: Uint8Array, shape: BodyShape): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return { kind: 'other' };
  }
  const batch = fastTelemetry(json, shape);
  if (!batch) return { kind: 'other' };
  const out: Decoded = { kind: 'readings', columns: toColumns(batch.readings) };
  if (batch.batchId !== undefined) out.batchId = batch.batchId;
  return out;
}

export function toColumns(readings: readonly ReadingRecord[]): ReadingColumns {
  const count = readings.length;
  const numbers = new Float64Array(count * 4);
  const codes = new Uint8Array(count * 2);
  const refs = new Int32Array(count * 2);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  for (let i = 0; i < count; i++) {
    const r = readings[i]!;
    numbers[i * 4] = r.bootEpoch;
    numbers[i * 4 + 1] = r.seq;
    numbers[i * 4 + 2] = r.ts;
    numbers[i * 4 + 3] = r.value === null ? Number.NaN : r.value;
    codes[i * 2] = QUALITIES.indexOf(r.quality);
    codes[i * 2 + 1] = r.kind === undefined ? 0 : KINDS.indexOf(r.kind);
    refs[i * 2] = ref(r.channel);
    refs[i * 2 + 1] = r.unit === undefined ? -1 : ref(r.unit);
  }
  return { count, numbers, codes, refs, strings };
}

/** The records the columns were made from. */
export function toReadings(c: ReadingColumns): ReadingRecord[] {
  const out = new Array<ReadingRecord>(c.count);
  const { numbers, codes, refs, strings } = c;
  for (let i = 0; i < c.count; i++) {
    const value = numbers[i * 4 + 3]!;
    const r: ReadingRecord = {
      bootEpoch: numbers[i * 4]!,
      seq: numbers[i * 4 + 1]!,
      ts: numbers[i * 4 + 2]!,
      channel: strings[refs[i * 2]!]!,
      value: Number.isNaN(value) ? null : value,
      quality: QUALITIES[codes[i * 2]!]!,
    };
    const unit = refs[i * 2 + 1]!;
    if (unit >= 0) r.unit = strings[unit]!;
    const kind = KINDS[codes[i * 2 + 1]!];
    if (kind !== undefined) r.kind = kind;
    out[i] = r;
  }
  return out;
}

/** The typed arrays of the columns, to move them to another thread instead of copying. */
export function transferList(c: ReadingColumns): ArrayBuffer[] {
  return [c.numbers.buffer as ArrayBuffer, c.codes.buffer as ArrayBuffer, c.refs.buffer as ArrayBuffer];
}
