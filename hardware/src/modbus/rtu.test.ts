import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbRequest } from './arbitraries.ts';
import { encodeRequest } from './pdu.ts';
import { decodeRtu, encodeRtu, type RtuFrame, RtuRequestFramer } from './rtu.ts';

const arbFrame = fc
  .record({ unit: fc.integer({ min: 0, max: 247 }), request: arbRequest })
  .map(({ unit, request }) => ({
    unit,
    pdu: encodeRequest(request),
  }));

function feed(framer: RtuRequestFramer, stream: Buffer, cuts: number[]): RtuFrame[] {
  const out: RtuFrame[] = [];
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const n = cuts.length === 0 ? stream.length : Math.max(1, cuts[i++ % cuts.length] ?? 1);
    out.push(...framer.push(stream.subarray(at, at + n)));
    at += n;
  }
  return out;
}

describe('Modbus RTU', () => {
  it('frames the spec example byte-exactly', () => {
    expect(encodeRtu(1, Buffer.from([3, 0, 0, 0, 10])).toString('hex')).toBe(
      '0103000000 0ac5cd'.replace(' ', ''),
    );
  });

  it('decodeRtu inverts encodeRtu and names the CRC offset on corruption', () => {
    fc.assert(
      fc.property(arbFrame, ({ unit, pdu }) => {
        expect(decodeRtu(encodeRtu(unit, pdu))).toEqual({ unit, pdu });
      }),
    );
    const bad = encodeRtu(1, Buffer.from([3, 0, 0, 0, 10]));
    bad[7] = (bad[7] ?? 0) ^ 1;
    expect(() => decodeRtu(bad)).toThrow(/RTU CRC is 0x.*expected 0xcdc5 \(at byte 6\)/);
  });

  it('finds every request in a stream however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 30 })),
        (frames, cuts) => {
          const framer = new RtuRequestFramer();
          const stream = Buffer.concat(frames.map((f) => encodeRtu(f.unit, f.pdu)));
          expect(feed(framer, stream, cuts)).toEqual(frames);
          expect(framer.stats.droppedBytes).toBe(0);
          expect(framer.pending()).toBe(0);
        },
      ),
    );
  });

  it('drops garbage before a silence and resynchronises, counting what it dropped', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.array(arbFrame, { minLength: 1, maxLength: 4 }),
        (garbage, frames) => {
          const framer = new RtuRequestFramer();
          const early = framer.push(garbage);
          const late = framer.idle();
          const got = feed(framer, Buffer.concat(frames.map((f) => encodeRtu(f.unit, f.pdu))), []);
          // Garbage can, rarely, hold a frame with a valid CRC by chance; real frames are never lost.
          expect(got).toEqual(frames);
          expect(
            framer.stats.droppedBytes + [...early, ...late].reduce((s, f) => s + f.pdu.length + 3, 0),
          ).toBe(garbage.length);
        },
      ),
    );
  });

  it('resynchronises on a frame right after a corrupted one without a silence', () => {
    const framer = new RtuRequestFramer();
    const good = encodeRtu(1, encodeRequest({ fc: 4, address: 0, quantity: 2 }));
    const corrupted = Buffer.from(good);
    corrupted[3] = (corrupted[3] ?? 0) ^ 0xff;
    const got = framer.push(Buffer.concat([corrupted, good]));
    expect(got).toEqual([{ unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }]);
    expect(framer.stats.droppedBytes).toBe(8);
    expect(framer.stats.crcErrors).toBeGreaterThanOrEqual(1);
  });

  it('passes a frame with an unknown function code on silence, so the slave can answer exception 1', () => {
    const framer = new RtuRequestFramer();
    const frame = encodeRtu(7, Buffer.from([0x2b, 0x0e, 0x01, 0x00]));
    expect(framer.push(frame)).toEqual([]);
    expect(framer.idle()).toEqual([{ unit: 7, pdu: Buffer.from([0x2b, 0x0e, 0x01, 0x00]) }]);
  });

  it('drops a partial frame on silence', () => {
    const framer = new RtuRequestFramer();
    framer.push(encodeRtu(1, encodeRequest({ fc: 3, address: 0, quantity: 2 })).subarray(0, 5));
    expect(framer.idle()).toEqual([]);
    expect(framer.stats.droppedBytes).toBe(5);
  });
});
