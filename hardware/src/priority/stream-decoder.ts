// Finds priority-request frames in a byte stream (serial radio) or datagram (UDP) without
// allocating per frame: one preallocated buffer, one reused DecodedFrame, counters for what was dropped.
import {
  CRC_OFFSET,
  crc16Ccitt,
  type DecodedFrame,
  emptyDecodedFrame,
  FRAME_BYTES,
  FRAME_LENGTH_FIELD,
  FRAME_SYNC_0,
  FRAME_SYNC_1,
  FRAME_VERSION,
  readFrameFields,
  SIGNED_START,
} from './frame.ts';

/**
 * Called for each frame that passed header and CRC. `buf[offset .. offset + FRAME_BYTES)` is the raw
 * frame (valid only during the call); `frame` is reused for the next one.
 */
export type FrameListener = (buf: Buffer, offset: number, frame: DecodedFrame) => void;

export interface FrameDecoderCounts {
  /** Frames that passed header and CRC. */
  frames: number;
  /** Candidate frames with a good sync but a wrong version or length byte. */
  badHeader: number;
  /** Candidate frames whose CRC did not match (garbled on the way). */
  badCrc: number;
  /** Partial frames dropped by `flush()` (the link went quiet or the datagram ended mid-frame). */
  truncated: number;
  /** Bytes skipped while looking for a sync (noise, or the inside of a dropped frame). */
  skippedBytes: number;
}

export class PriorityFrameDecoder {
  private readonly buf: Buffer;
  private start = 0;
  private end = 0;
  private readonly frame: DecodedFrame = emptyDecodedFrame();
  readonly counts: FrameDecoderCounts = { frames: 0, badHeader: 0, badCrc: 0, truncated: 0, skippedBytes: 0 };

  /** `capacity` bounds the bytes held between pushes; at least two frames. */
  constructor(capacity = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 2 * FRAME_BYTES));
  }

  /** Bytes waiting for the rest of a frame. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Feeds received bytes; calls `onFrame` for every complete, CRC-valid frame in order. */
  push(chunk: Uint8Array, onFrame: FrameListener): void {
    let from = 0;
    while (from < chunk.length) {
      if (this.start > 0 && this.end + (chunk.length - from) > this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      const room = this.buf.length - this.end;
      const n = Math.min(room, chunk.length - from);
      if (from === 0 && n === chunk.length) this.buf.set(chunk, this.end);
      else {
        // Part of a chunk: a plain copy, because a subarray view would be an object per push.
        const b = this.buf;
        for (let k = 0; k < n; k++) b[this.end + k] = chunk[from + k]!;
      }
      this.end += n;
      from += n;
      this.scan(onFrame);
    }
  }

  /** Drops a partial frame (counted as truncated); call when the link is quiet or a datagram ends. */
  flush(): void {
    if (this.end > this.start) this.counts.truncated++;
    this.start = 0;
    this.end = 0;
  }

  private scan(onFrame: FrameListener): void {
    const b = this.buf;
    const c = this.counts;
    while (this.end - this.start >= 2) {
      const s = this.start;
      if (b[s] !== FRAME_SYNC_0 || b[s + 1] !== FRAME_SYNC_1) {
        this.start++;
        c.skippedBytes++;
        continue;
      }
      if (this.end - s < 4) break;
      if (b[s + 2] !== FRAME_VERSION || b[s + 3] !== FRAME_LENGTH_FIELD) {
        c.badHeader++;
        this.start++;
        c.skippedBytes++;
        continue;
      }
      if (this.end - s < FRAME_BYTES) break;
      const crc = (b[s + CRC_OFFSET]! << 8) | b[s + CRC_OFFSET + 1]!;
      if (crc16Ccitt(b, s + SIGNED_START, s + CRC_OFFSET) !== crc) {
        c.badCrc++;
        this.start++;
        c.skippedBytes++;
        continue;
      }
      c.frames++;
      this.start += FRAME_BYTES;
      onFrame(b, s, readFrameFields(b, s, this.frame));
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    } else if (this.start > 0 && this.end - this.start === 1 && b[this.start] !== FRAME_SYNC_0) {
      // A lone byte that cannot start a frame is noise.
      this.start = 0;
      this.end = 0;
      c.skippedBytes++;
    }
  }
}
