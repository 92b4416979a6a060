import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbRequest, arbResponse } from './arbitraries.ts';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, isException } from './pdu.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Modbus PDU', () => {
  it('encodes requests byte-exactly (spec examples)', () => {
    expect(hex(encodeRequest({ fc: 1, address: 19, quantity: 19 }))).toBe('0100130013');
    expect(hex(encodeRequest({ fc: 3, address: 107, quantity: 3 }))).toBe('03006b0003');
    expect(hex(encodeRequest({ fc: 5, address: 172, value: true }))).toBe('0500acff00');
    expect(hex(encodeRequest({ fc: 6, address: 1, value: 3 }))).toBe('0600010003');
    expect(
      hex(encodeRequest({ fc: 15, address: 19, values: [1, 0, 1, 1, 0, 0, 1, 1, 1, 0].map((b) => b === 1) })),
    ).toBe('0f0013000a02cd01');
    expect(hex(encodeRequest({ fc: 16, address: 1, values: [0x000a, 0x0102] }))).toBe(
      '10000100020400' + '0a0102',
    );
  });

  it('encodes responses byte-exactly (spec examples)', () => {
    expect(hex(encodeResponse({ fc: 3, registers: [0x022b, 0x0000, 0x0064] }))).toBe('0306022b00000064');
    expect(hex(encodeResponse({ fc: 2, bits: [0, 0, 1, 1, 0, 1, 0, 1].map((b) => b === 1) }))).toBe('0201ac');
    expect(hex(encodeResponse({ fc: 16, address: 1, quantity: 2 }))).toBe('1000010002');
    expect(hex(encodeResponse({ fc: 4, exception: 2 }))).toBe('8402');
  });

  it('round-trips every valid request through encode and a server decode', () => {
    fc.assert(
      fc.property(arbRequest, (r) => {
        expect(decodeRequest(encodeRequest(r))).toEqual({ ok: true, request: r });
      }),
    );
  });

  it('round-trips every response through encode and a client decode', () => {
    fc.assert(
      fc.property(arbResponse, (r) => {
        const bitQuantity = 'bits' in r ? r.bits.length : undefined;
        expect(decodeResponse(encodeResponse(r), bitQuantity)).toEqual(r);
      }),
    );
  });

  it('never throws on arbitrary request bytes; refusals carry an exception code 1-3', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
        const d = decodeRequest(bytes);
        if (!d.ok) expect([1, 2, 3]).toContain(d.exception);
      }),
    );
  });

  it('refuses with the right exception codes', () => {
    expect(decodeRequest(Buffer.from([0x2b, 0x0e]))).toMatchObject({ ok: false, exception: 1 });
    expect(decodeRequest(encodeRequest({ fc: 3, address: 0, quantity: 126 }))).toMatchObject({
      ok: false,
      exception: 3,
    });
    expect(decodeRequest(encodeRequest({ fc: 3, address: 0, quantity: 0 }))).toMatchObject({
      ok: false,
      exception: 3,
    });
    expect(decodeRequest(encodeRequest({ fc: 4, address: 0xfff0, quantity: 100 }))).toMatchObject({
      ok: false,
      exception: 2,
    });
    expect(decodeRequest(Buffer.from([5, 0, 1, 0x12, 0x34]))).toMatchObject({ ok: false, exception: 3 });
    expect(decodeRequest(Buffer.from([16, 0, 1, 0, 2, 3, 0, 0, 0]))).toMatchObject({
      ok: false,
      exception: 3,
    });
  });

  it('tells exceptions apart and rejects malformed responses with the byte offset', () => {
    const r = decodeResponse(Buffer.from([0x83, 0x02]));
    expect(isException(r) && r.exception).toBe(2);
    expect(() => decodeResponse(Buffer.from([0x03, 0x04, 0, 1]))).toThrow(
      /byte count 4 disagrees.*at byte 1/,
    );
    expect(() => decodeResponse(Buffer.from([0x03, 0x03, 0, 1, 2]))).toThrow(/odd/);
  });
});
