import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Modbus } from './crc.ts';

describe('crc16Modbus', () => {
  it('matches the check value of CRC-16/MODBUS ("123456789" → 0x4B37)', () => {
    expect(crc16Modbus(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('matches a frame from the spec: 01 03 00 00 00 0A → CRC bytes C5 CD', () => {
    const crc = crc16Modbus(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]));
    expect([crc & 0xff, crc >> 8]).toEqual([0xc5, 0xcd]);
  });

  it('leaves residue 0 over any message followed by its CRC low byte first', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (msg) => {
        const crc = crc16Modbus(msg);
        const framed = Buffer.concat([Buffer.from(msg), Buffer.from([crc & 0xff, crc >> 8])]);
        expect(crc16Modbus(framed)).toBe(0);
      }),
    );
  });

  it('detects every single-bit error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (msg, bit) => {
        const i = bit % (msg.length * 8);
        const flipped = Buffer.from(msg);
        flipped[i >> 3] = (flipped[i >> 3] ?? 0) ^ (1 << (i & 7));
        expect(crc16Modbus(flipped)).not.toBe(crc16Modbus(msg));
      }),
    );
  });
});
