// Telemetry bodies checked and decoded off the event loop. A 55 kB batch of 500 readings costs
// ~0.1 ms of signature check (SHA-256 of the body, Ed25519) and ~0.25 ms of JSON.parse and
// validation; on the event loop that was a third of what the HTTP path spent per batch, beside
// the SQLite work that has to stay there. A worker thread does both and sends the readings back
// as a few typed arrays (moved, not copied) and one list of strings, from which the event loop
// rebuilds the records in a few microseconds: structured-cloning 500 objects would cost about as
// much as parsing them.
//
// Only plain reading batches take this path. Anything else (events, a bad record, malformed
// JSON) comes back as 'other', with the signature already checked, and the caller parses it on
// the event loop with the zod schema, which also explains what is wrong. The decision and the
// records are the same whether the worker or the event loop decoded a body (decodeTelemetry is
// the one function both run); the event loop decodes itself while the worker starts, after it
// died, or when it is turned off.
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
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
  /** The signature check failed; `message` says why (as verifyGatewayRequest does). */
  | { kind: 'refused'; message: string }
  /** Not a plain readings batch (or not JSON): parse it on the event loop. Signature checked. */
  | { kind: 'other' };

export type BodyShape = 'batch' | 'message';

const QUALITIES = ['good', 'uncertain', 'bad'] as const;
const KINDS = [undefined, 'counter', 'gauge', 'status'] as const;

// Decoding an enrolled key costs more than the Ed25519 check itself; both threads keep their own.
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

/** Checks the signature (when given), then parses and validates a reading batch into columns. */
export function decodeTelemetry(body: Uint8Array, shape: BodyShape, signature?: BodySignature): Decoded {
  if (signature) {
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
    if (!check.ok) return { kind: 'refused', message: check.message };
  }
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

function toColumns(readings: readonly ReadingRecord[]): ReadingColumns {
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

/** The typed arrays of a result, to move them to the other thread instead of copying. */
export function transferList(d: Decoded): ArrayBuffer[] {
  if (d.kind !== 'readings') return [];
  const c = d.columns;
  return [c.numbers.buffer as ArrayBuffer, c.codes.buffer as ArrayBuffer, c.refs.buffer as ArrayBuffer];
}

export interface DecodeRequest {
  id: number;
  body: Uint8Array;
  shape: BodyShape;
  signature?: BodySignature;
}

export interface DecoderOptions {
  /** Decode on a worker thread (default true); false decodes on the event loop. */
  worker?: boolean;
  /** Told when the worker fails; the event loop then decodes until it is started again. */
  onError?: (message: string) => void;
}

interface InFlight {
  /** The caller's body (the worker got a copy, moved): decoded here should the worker die. */
  body: Uint8Array;
  shape: BodyShape;
  signature: BodySignature | undefined;
  resolve: (d: Decoded) => void;
}

// The worker runs TypeScript like the rest of the server: it registers tsx before it loads its
// entry (a plain `new Worker(url)` would not have the parent's loader under every runner).
const WORKER_BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx)
  .then((tsx) => { tsx.register(); return import(workerData.entry); })
  .catch((error) => { parentPort.postMessage({ bootError: String(error) }); process.exit(1); });
`;

/** After this many worker failures the event loop decodes for good. */
const MAX_WORKER_STARTS = 3;

/**
 * Decodes telemetry bodies on one worker thread, started by start() or on first use. The returned
 * promise always resolves: if the worker dies, what it held is decoded on the event loop.
 */
export class TelemetryDecoder {
  private worker: Worker | null = null;
  private ready = false;
  private starts = 0;
  private closed = false;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();

  constructor(private readonly options: DecoderOptions = {}) {}

  /**
   * Starts the worker now rather than on the first body: loading it costs ~0.2 s of CPU, which a
   * server should spend at start, not while the first gateways report.
   */
  start(): void {
    if (this.options.worker !== false && !this.closed && !this.worker && this.starts < MAX_WORKER_STARTS)
      this.spawn();
  }

  decode(body: Uint8Array, shape: BodyShape, signature?: BodySignature): Promise<Decoded> {
    this.start();
    if (!this.ready || !this.worker) return Promise.resolve(decodeTelemetry(body, shape, signature));
    // A copy of exactly the body, moved to the worker: a Buffer may be a view into a larger
    // shared allocation, all of which postMessage would copy.
    const copy = new Uint8Array(body.byteLength);
    copy.set(body);
    const request: DecodeRequest = { id: this.nextId++, body: copy, shape };
    if (signature) request.signature = signature;
    const worker = this.worker;
    return new Promise((resolve) => {
      this.inFlight.set(request.id, { body, shape, signature, resolve });
      worker.postMessage(request, [copy.buffer]);
    });
  }

  /** Bodies sent to the worker and not yet answered (for tests and the status page). */
  get pending(): number {
    return this.inFlight.size;
  }

  /** True once the worker answers; before that, and after it failed for good, the event loop decodes. */
  get onWorker(): boolean {
    return this.ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  private spawn(): void {
    this.starts++;
    const worker = new Worker(WORKER_BOOT, {
      eval: true,
      workerData: {
        tsx: import.meta.resolve('tsx/esm/api'),
        entry: new URL('./batch-decoder.worker.ts', import.meta.url).href,
      },
    });
    worker.unref();
    this.worker = worker;
    worker.on('message', (m: { ready?: true; bootError?: string; id?: number; decoded?: Decoded }) => {
      if (m.ready) this.ready = true;
      else if (m.bootError) this.options.onError?.(`telemetry decoder did not start: ${m.bootError}`);
      else if (m.id !== undefined && m.decoded) {
        const job = this.inFlight.get(m.id);
        this.inFlight.delete(m.id);
        job?.resolve(m.decoded);
      }
    });
    worker.on('error', (error) => this.options.onError?.(`telemetry decoder failed: ${String(error)}`));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = false;
      // Whatever it held is decoded here, in the order it was sent.
      const jobs = [...this.inFlight.values()];
      this.inFlight.clear();
      for (const j of jobs) j.resolve(decodeTelemetry(j.body, j.shape, j.signature));
    });
  }
}
