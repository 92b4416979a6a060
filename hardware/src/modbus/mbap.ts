// Modbus TCP application data unit: the 7-byte MBAP header (transaction id, protocol id 0,
// length of what follows, unit id) then the PDU (Modbus Messaging on TCP/IP V1.0b, section 3.1.3).

import { ModbusFrameError } from './errors.ts';

export interface MbapFrame {
  transactionId: number;
  unit: number;
  pdu: Buffer;
}

export function encodeMbap(f: MbapFrame): Buffer {
  const b = Buffer.alloc(7 + f.pdu.length);
  b.writeUInt16BE(f.transactionId, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(f.pdu.length + 1, 4);
  b[6] = f.unit;
  f.pdu.copy(b, 7);
  return b;
}

/** Largest PDU is 253 bytes, so the MBAP length field (unit + PDU) is 2..254. */
const MAX_LENGTH = 254;

/** Splits a TCP byte stream into MBAP frames. Throws `ModbusFrameError` on a malformed header. */
export class MbapFramer {
  private buf: Buffer = Buffer.alloc(0);
  private consumed = 0;

  push(chunk: Uint8Array): MbapFrame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: MbapFrame[] = [];
    while (this.buf.length >= 7) {
      const protocol = this.buf.readUInt16BE(2);
      const length = this.buf.readUInt16BE(4);
      const fix = 'send Modbus TCP frames (MBAP header: transaction id, protocol 0, length, unit)';
      if (protocol !== 0)
        throw new ModbusFrameError(`MBAP protocol id ${protocol}, expected 0`, this.consumed + 2, fix);
      if (length < 2 || length > MAX_LENGTH) {
        throw new ModbusFrameError(`MBAP length ${length} outside 2..${MAX_LENGTH}`, this.consumed + 4, fix);
      }
      if (this.buf.length < 6 + length) break;
      out.push({
        transactionId: this.buf.readUInt16BE(0),
        unit: this.buf[6] ?? 0,
        pdu: Buffer.from(this.buf.subarray(7, 6 + length)),
      });
      this.buf = this.buf.subarray(6 + length);
      this.consumed += 6 + length;
    }
    return out;
  }
}
