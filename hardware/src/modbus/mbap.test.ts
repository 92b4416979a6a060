import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbRequest } from './arbitraries.ts';
import { encodeMbap, type MbapFrame, MbapFramer } from './mbap.ts';
import { encodeRequest } from './pdu.ts';

const arbMbap: fc.Arbitrary<MbapFrame> = fc.record({
  transactionId: fc.integer({ min: 0, max: 0xffff }),
  unit: fc.integer({ min: 0, max: 255 }),
  pdu: arbRequest.map(encodeRequest),
});

describe('MBAP', () => {
  it('encodes the header byte-exactly', () => {
    const b = encodeMbap({ transactionId: 0x1234, unit: 1, pdu: Buffer.from([3, 0, 0, 0, 2]) });
    expect(b.toString('hex')).toBe('1234000000060103' + '00000002');
  });

  it('splits pipelined frames however the TCP stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(arbMbap, { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 50 })),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(encodeMbap));
          const framer = new MbapFramer();
          const out: MbapFrame[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts.length === 0 ? stream.length : (cuts[i++ % cuts.length] ?? 1);
            out.push(...framer.push(stream.subarray(at, at + n)));
            at += n;
          }
          expect(out).toEqual(frames);
        },
      ),
    );
  });

  it('rejects a non-zero protocol id and a bad length naming the stream offset', () => {
    const ok = encodeMbap({ transactionId: 1, unit: 1, pdu: Buffer.from([3, 0, 0, 0, 1]) });
    const framer = new MbapFramer();
    framer.push(ok);
    expect(() => framer.push(Buffer.from('0001000100060103', 'hex'))).toThrow(
      /protocol id 1, expected 0 \(at byte 14\)/,
    );
    expect(() => new MbapFramer().push(Buffer.from('00010000ffff01', 'hex'))).toThrow(
      /MBAP length 65535 outside 2..254/,
    );
  });
});
