// Modbus PDUs (function code + data) for the function codes a meter bench needs, per the
// Modbus Application Protocol Specification V1.1b3, sections 6.1-6.12 and 7 (exceptions).
// Requests decode to a value or to the exception a conforming server answers with.

import { ModbusFrameError } from './errors.ts';

export const ModbusFunctionCode = {
  readCoils: 1,
  readDiscreteInputs: 2,
  readHoldingRegisters: 3,
  readInputRegisters: 4,
  writeSingleCoil: 5,
  writeSingleRegister: 6,
  writeMultipleCoils: 15,
  writeMultipleRegisters: 16,
} as const;

export const ExceptionCode = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  serverDeviceFailure: 4,
  serverDeviceBusy: 6,
  gatewayPathUnavailable: 10,
  gatewayTargetFailedToRespond: 11,
} as const;
export type ExceptionCode = (typeof ExceptionCode)[keyof typeof ExceptionCode];

export type ReadBitsRequest = { fc: 1 | 2; address: number; quantity: number };
export type ReadRegistersRequest = { fc: 3 | 4; address: number; quantity: number };
export type ModbusRequest =
  | ReadBitsRequest
  | ReadRegistersRequest
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15; address: number; values: boolean[] }
  | { fc: 16; address: number; values: number[] };

export type ModbusException = { fc: number; exception: number };
export type ModbusResponse =
  | { fc: 1 | 2; bits: boolean[] }
  | { fc: 3 | 4; registers: number[] }
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15 | 16; address: number; quantity: number }
  | ModbusException;

export function isException(r: ModbusResponse): r is ModbusException {
  return 'exception' in r;
}

/** Limits of quantity per function code (spec sections 6.1-6.12). */
export const MAX_QUANTITY = { 1: 2000, 2: 2000, 3: 125, 4: 125, 15: 0x7b0, 16: 123 } as const;

function packBits(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => {
    if (b) out[i >> 3] = (out[i >> 3] ?? 0) | (1 << (i & 7));
  });
  return out;
}

function unpackBits(bytes: Buffer, count: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push((((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) === 1);
  return out;
}

export function encodeRequest(r: ModbusRequest): Buffer {
  switch (r.fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const b = Buffer.alloc(5);
      b[0] = r.fc;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.quantity, 3);
      return b;
    }
    case 5: {
      const b = Buffer.alloc(5);
      b[0] = 5;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.value ? 0xff00 : 0, 3);
      return b;
    }
    case 6: {
      const b = Buffer.alloc(5);
      b[0] = 6;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.value, 3);
      return b;
    }
    case 15: {
      const data = packBits(r.values);
      const b = Buffer.alloc(6 + data.length);
      b[0] = 15;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.values.length, 3);
      b[5] = data.length;
      data.copy(b, 6);
      return b;
    }
    case 16: {
      const b = Buffer.alloc(6 + 2 * r.values.length);
      b[0] = 16;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.values.length, 3);
      b[5] = 2 * r.values.length;
      r.values.forEach((v, i) => {
        b.writeUInt16BE(v, 6 + 2 * i);
      });
      return b;
    }
  }
}

export type DecodedRequest =
  | { ok: true; request: ModbusRequest }
  | { ok: false; fc: number; exception: ExceptionCode; reason: string };

/**
 * Decode a request PDU the way a server does: never throws; a PDU the server must refuse comes back
 * with the exception code to answer and a reason for logs.
 */
export function decodeRequest(pdu: Uint8Array): DecodedRequest {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const fc = b[0] ?? 0;
  const refuse = (exception: ExceptionCode, reason: string): DecodedRequest => ({
    ok: false,
    fc,
    exception,
    reason,
  });
  if (b.length === 0) return refuse(ExceptionCode.illegalFunction, 'empty PDU');
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      if (b.length !== 5)
        return refuse(ExceptionCode.illegalDataValue, `FC ${fc} PDU must be 5 bytes, got ${b.length}`);
      const address = b.readUInt16BE(1);
      const quantity = b.readUInt16BE(3);
      if (quantity < 1 || quantity > MAX_QUANTITY[fc]) {
        return refuse(
          ExceptionCode.illegalDataValue,
          `FC ${fc} quantity ${quantity} outside 1..${MAX_QUANTITY[fc]}`,
        );
      }
      if (address + quantity > 0x10000)
        return refuse(ExceptionCode.illegalDataAddress, `FC ${fc} range passes 65535`);
      return { ok: true, request: { fc, address, quantity } };
    }
    case 5: {
      if (b.length !== 5)
        return refuse(ExceptionCode.illegalDataValue, `FC 5 PDU must be 5 bytes, got ${b.length}`);
      const raw = b.readUInt16BE(3);
      if (raw !== 0xff00 && raw !== 0)
        return refuse(
          ExceptionCode.illegalDataValue,
          `FC 5 value 0x${raw.toString(16)} is not 0xFF00 or 0x0000`,
        );
      return { ok: true, request: { fc: 5, address: b.readUInt16BE(1), value: raw === 0xff00 } };
    }
    case 6:
      if (b.length !== 5)
        return refuse(ExceptionCode.illegalDataValue, `FC 6 PDU must be 5 bytes, got ${b.length}`);
      return { ok: true, request: { fc: 6, address: b.readUInt16BE(1), value: b.readUInt16BE(3) } };
    case 15:
    case 16: {
      if (b.length < 6)
        return refuse(ExceptionCode.illegalDataValue, `FC ${fc} PDU too short (${b.length} bytes)`);
      const address = b.readUInt16BE(1);
      const quantity = b.readUInt16BE(3);
      const byteCount = b[5] ?? 0;
      const expected = fc === 15 ? Math.ceil(quantity / 8) : 2 * quantity;
      if (
        quantity < 1 ||
        quantity > MAX_QUANTITY[fc] ||
        byteCount !== expected ||
        b.length !== 6 + byteCount
      ) {
        return refuse(
          ExceptionCode.illegalDataValue,
          `FC ${fc} quantity ${quantity} / byte count ${byteCount} / length ${b.length} disagree`,
        );
      }
      if (address + quantity > 0x10000)
        return refuse(ExceptionCode.illegalDataAddress, `FC ${fc} range passes 65535`);
      const data = b.subarray(6);
      if (fc === 15) return { ok: true, request: { fc, address, values: unpackBits(data, quantity) } };
      const values: number[] = [];
      for (let i = 0; i < quantity; i++) values.push(data.readUInt16BE(2 * i));
      return { ok: true, request: { fc, address, values } };
    }
    default:
      return refuse(ExceptionCode.illegalFunction, `function code ${fc} is not supported`);
  }
}

export function encodeResponse(r: ModbusResponse): Buffer {
  if (isException(r)) return Buffer.from([(r.fc | 0x80) & 0xff, r.exception]);
  switch (r.fc) {
    case 1:
    case 2: {
      const data = packBits(r.bits);
      return Buffer.concat([Buffer.from([r.fc, data.length]), data]);
    }
    case 3:
    case 4: {
      const b = Buffer.alloc(2 + 2 * r.registers.length);
      b[0] = r.fc;
      b[1] = 2 * r.registers.length;
      r.registers.forEach((v, i) => {
        b.writeUInt16BE(v, 2 + 2 * i);
      });
      return b;
    }
    case 5:
      return encodeRequest({ fc: 5, address: r.address, value: r.value });
    case 6:
      return encodeRequest({ fc: 6, address: r.address, value: r.value });
    case 15:
    case 16: {
      const b = Buffer.alloc(5);
      b[0] = r.fc;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.quantity, 3);
      return b;
    }
  }
}

/**
 * Decode a response PDU as a client does. Bit responses carry whole bytes; pass the request's
 * quantity to trim the padding. Throws `ModbusFrameError` naming the offending byte.
 */
export function decodeResponse(pdu: Uint8Array, bitQuantity?: number): ModbusResponse {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const fc = b[0];
  const fix = 'check the server and the line (baud, parity); the response does not follow the Modbus spec';
  if (fc === undefined) throw new ModbusFrameError('empty response PDU', 0, fix);
  if (fc & 0x80) {
    if (b.length !== 2)
      throw new ModbusFrameError(`exception response must be 2 bytes, got ${b.length}`, 0, fix);
    return { fc: fc & 0x7f, exception: b[1] ?? 0 };
  }
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const count = b[1];
      if (count === undefined || b.length !== 2 + count) {
        throw new ModbusFrameError(`byte count ${count} disagrees with PDU length ${b.length}`, 1, fix);
      }
      const data = b.subarray(2);
      if (fc === 1 || fc === 2) return { fc, bits: unpackBits(data, bitQuantity ?? count * 8) };
      if (count % 2 !== 0) throw new ModbusFrameError(`register byte count ${count} is odd`, 1, fix);
      const registers: number[] = [];
      for (let i = 0; i < count / 2; i++) registers.push(data.readUInt16BE(2 * i));
      return { fc, registers };
    }
    case 5:
    case 6:
    case 15:
    case 16: {
      if (b.length !== 5)
        throw new ModbusFrameError(`FC ${fc} response must be 5 bytes, got ${b.length}`, 0, fix);
      const address = b.readUInt16BE(1);
      const v = b.readUInt16BE(3);
      if (fc === 5) return { fc, address, value: v === 0xff00 };
      if (fc === 6) return { fc, address, value: v };
      return { fc, address, quantity: v };
    }
    default:
      throw new ModbusFrameError(`function code ${fc} is not supported`, 0, fix);
  }
}
