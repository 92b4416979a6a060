// Framing of the IPC byte stream. Each frame:
//   u32 BE length (of everything after these 4 bytes) | u8 version | u8 type | UTF-8 JSON body
// A length prefix (rather than newline-delimited JSON) lets the decoder reject an oversized or
// garbage frame from its first 6 bytes, before buffering it.
import { IpcFrameError } from './errors.ts';

export const IPC_PROTOCOL_VERSION = 1;
/** Large enough for a batch of several thousand readings, small enough that garbage is caught early. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
const HEADER_BYTES = 6;

/**
 * `values` flows from the agent to a firmware process: the latest readings of the channels it
 * subscribed to. `command` flows from the agent to a firmware process (a flow switching a relay)
 * and `reply` answers it (commands.ts).
 */
export const FRAME_TYPES = { hello: 1, batch: 2, ack: 3, error: 4, values: 5, command: 6, reply: 7 } as const;
export type FrameType = keyof typeof FRAME_TYPES;
const TYPE_NAMES = new Map<number, FrameType>(
  Object.entries(FRAME_TYPES).map(([name, code]) => [code, name as FrameType]),
);

export interface Frame {
  type: FrameType;
  body: string;
  /** Offset of the frame's first byte in the stream (for error messages). */
  offset: number;
}

export function encodeFrame(type: FrameType, body: string): Buffer {
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  out.writeUInt32BE(bodyBytes + 2, 0);
  out.writeUInt8(IPC_PROTOCOL_VERSION, 4);
  out.writeUInt8(FRAME_TYPES[type], 5);
  out.write(body, HEADER_BYTES, 'utf8');
  return out;
}

/**
 * Incremental decoder: feed it chunks as they arrive (split or coalesced anyhow), get whole frames.
 * After it throws an IpcFrameError it stays failed: the stream cannot be resynchronised safely,
 * so the connection must be closed.
 */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);
  #streamOffset = 0;
  #failed: IpcFrameError | undefined;
  readonly #maxFrameBytes: number;

  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    this.#pending = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const frames: Frame[] = [];
    let pos = 0;
    const buf = this.#pending;
    while (buf.length - pos >= 4) {
      const offset = this.#streamOffset + pos;
      const length = buf.readUInt32BE(pos);
      if (length < 2) {
        this.#fail(offset, `frame length ${length} is shorter than its 2-byte header`);
      }
      if (length > this.#maxFrameBytes) {
        this.#fail(offset, `frame length ${length} exceeds the limit of ${this.#maxFrameBytes} bytes`);
      }
      if (buf.length - pos >= 5) {
        const version = buf.readUInt8(pos + 4);
        if (version !== IPC_PROTOCOL_VERSION) {
          this.#fail(offset, `protocol version ${version}, this side speaks ${IPC_PROTOCOL_VERSION}`);
        }
      }
      if (buf.length - pos >= 6) {
        const code = buf.readUInt8(pos + 5);
        if (!TYPE_NAMES.has(code)) this.#fail(offset, `unknown frame type ${code}`);
      }
      if (buf.length - pos < 4 + length) break;
      const type = TYPE_NAMES.get(buf.readUInt8(pos + 5))!;
      frames.push({ type, body: buf.toString('utf8', pos + HEADER_BYTES, pos + 4 + length), offset });
      pos += 4 + length;
    }
    this.#streamOffset += pos;
    this.#pending = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    return frames;
  }

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.#pending.length;
  }

  #fail(offset: number, problem: string): never {
    this.#failed = new IpcFrameError(
      offset,
      problem,
      'make sure both ends run the same Brána version and that nothing else writes to the agent socket',
    );
    throw this.#failed;
  }
}

/** Parses a frame body as JSON; a syntax error becomes an IpcFrameError at the frame's offset. */
export function parseFrameJson(frame: Frame): unknown {
  try {
    return JSON.parse(frame.body);
  } catch (cause) {
    throw new IpcFrameError(
      frame.offset,
      `${frame.type} frame body is not JSON (${(cause as Error).message})`,
      'make sure both ends run the same Brána version',
    );
  }
}
