// Modbus RTU application data unit: [unit][PDU][CRC lo][CRC hi] (Modbus over Serial Line V1.02, 2.5.1),
// and the stream framer a slave uses to find requests in the bytes arriving on its line.

import { crc16Modbus } from './crc.ts';
import { ModbusFrameError } from './errors.ts';

export interface RtuFrame {
  unit: number;
  pdu: Buffer;
}

export function encodeRtu(unit: number, pdu: Uint8Array): Buffer {
  const b = Buffer.alloc(pdu.length + 3);
  b[0] = unit;
  b.set(pdu, 1);
  b.writeUInt16LE(crc16Modbus(b, 0, pdu.length + 1), pdu.length + 1);
  return b;
}

export function decodeRtu(frame: Uint8Array): RtuFrame {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 4)
    throw new ModbusFrameError(
      `RTU frame of ${b.length} bytes is shorter than 4`,
      0,
      'wait for the whole frame',
    );
  const want = crc16Modbus(b, 0, b.length - 2);
  const got = b.readUInt16LE(b.length - 2);
  if (want !== got) {
    throw new ModbusFrameError(
      `RTU CRC is 0x${got.toString(16).padStart(4, '0')}, expected 0x${want.toString(16).padStart(4, '0')}`,
      b.length - 2,
      'check baud rate, parity and wiring (A/B swapped, missing termination)',
    );
  }
  return { unit: b[0] ?? 0, pdu: Buffer.from(b.subarray(1, b.length - 2)) };
}

/**
 * Total length of a request frame starting at `b[0]`, from the function code's length rule;
 * `'more'` if the header is not complete yet, `'unknown'` for a function code without a rule.
 */
export function rtuRequestLength(b: Uint8Array): number | 'more' | 'unknown' {
  if (b.length < 2) return 'more';
  const fc = b[1] ?? 0;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return b.length < 7 ? 'more' : 9 + (b[6] ?? 0);
  return 'unknown';
}

export interface RtuFramerStats {
  frames: number;
  /** Bytes thrown away while resynchronising (garbage, frames with a bad CRC, partial frames). */
  droppedBytes: number;
  /** Candidates of full length whose CRC did not match. */
  crcErrors: number;
}

/** Units 1-247 are slaves, 0 is broadcast; 248-255 are reserved and never start a frame. */
const MAX_UNIT = 247;
/** A frame never exceeds 256 bytes; past that the buffer head is garbage. */
const MAX_FRAME = 256;

/**
 * Finds request frames in a slave's incoming byte stream by length rules and CRC. On a CRC miss it
 * drops one byte and tries again, so it resynchronises on the next real frame. Call `idle()` when
 * the line has been silent for t3.5: what is pending then is a frame with an unknown function code
 * (if its CRC matches) or the remains of a partial frame, which are dropped.
 */
export class RtuRequestFramer {
  private buf: Buffer = Buffer.alloc(0);
  readonly stats: RtuFramerStats = { frames: 0, droppedBytes: 0, crcErrors: 0 };

  pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): RtuFrame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    return this.scan(false);
  }

  idle(): RtuFrame[] {
    return this.scan(true);
  }

  private drop(n: number): void {
    this.stats.droppedBytes += n;
    this.buf = this.buf.subarray(n);
  }

  /**
   * The head of the buffer waits for bytes (or a silence) it may never get; if a complete frame with a
   * valid CRC already sits further on, the head was garbage: drop up to that frame.
   */
  private skipToLaterFrame(): boolean {
    for (let p = 1; p + 4 <= this.buf.length; p++) {
      if ((this.buf[p] ?? 0) > MAX_UNIT) continue;
      const rest = this.buf.subarray(p);
      const len = rtuRequestLength(rest);
      if (typeof len === 'number' && rest.length >= len && crc16Modbus(rest, 0, len) === 0) {
        this.drop(p);
        return true;
      }
    }
    return false;
  }

  private scan(final: boolean): RtuFrame[] {
    const out: RtuFrame[] = [];
    while (this.buf.length > 0) {
      if ((this.buf[0] ?? 0) > MAX_UNIT) {
        this.drop(1);
        continue;
      }
      const len = rtuRequestLength(this.buf);
      if (len === 'more' || (typeof len === 'number' && this.buf.length < len)) {
        if (!final && this.buf.length <= MAX_FRAME && !this.skipToLaterFrame()) break;
        if (final || this.buf.length > MAX_FRAME) this.drop(1);
        continue;
      }
      if (len === 'unknown') {
        if (final && this.buf.length >= 4 && crc16Modbus(this.buf) === 0) {
          out.push({ unit: this.buf[0] ?? 0, pdu: Buffer.from(this.buf.subarray(1, this.buf.length - 2)) });
          this.stats.frames++;
          this.buf = Buffer.alloc(0);
          break;
        }
        if (!final && this.buf.length <= MAX_FRAME && !this.skipToLaterFrame()) break;
        if (final || this.buf.length > MAX_FRAME) this.drop(1);
        continue;
      }
      // A CRC computed over a frame including its own CRC (low byte first) leaves a residue of 0.
      if (crc16Modbus(this.buf, 0, len) === 0) {
        out.push({ unit: this.buf[0] ?? 0, pdu: Buffer.from(this.buf.subarray(1, len - 2)) });
        this.stats.frames++;
        this.buf = this.buf.subarray(len);
      } else {
        this.stats.crcErrors++;
        this.drop(1);
      }
    }
    return out;
  }
}
