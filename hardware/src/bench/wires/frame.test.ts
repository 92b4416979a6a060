import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../errors.ts';
import { encodeWireMessage, WireFrameDecoder, type WireMessage } from './frame.ts';

const name = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
const id = fc.integer({ min: 0, max: 0xffffffff });
const level = fc.constantFrom(0 as const, 1 as const);
const atNs = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const message: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.record({ op: fc.constant('hello' as const), id }),
  fc.record({ op: fc.constant('set' as const), id, line: name, level, atNs }),
  fc.record({ op: fc.constant('read' as const), id, line: name }),
  fc.record({ op: fc.constant('ok' as const), id, level }),
  fc.record({ op: fc.constant('error' as const), id, message: fc.string({ maxLength: 200 }) }),
  fc.record({ op: fc.constant('edge' as const), line: name, level, atNs }),
);

describe('wire frame codec', () => {
  it('round-trips any message sequence however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 40 })),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs.map(encodeWireMessage));
          const decoder = new WireFrameDecoder();
          const out: WireMessage[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts.length === 0 ? stream.length : (cuts[i++ % cuts.length] ?? 1);
            out.push(...decoder.push(stream.subarray(at, at + n)));
            at += n;
          }
          expect(out).toEqual(msgs);
        },
      ),
    );
  });

  it('encodes an edge byte-exactly', () => {
    const frame = encodeWireMessage({ op: 'edge', line: 'a', level: 1, atNs: 258n });
    expect([...frame]).toEqual([0, 11, 0x83, 1, 0, 0, 0, 0, 0, 0, 1, 2, 0x61]);
  });

  it('rejects an unknown opcode naming the stream offset', () => {
    const decoder = new WireFrameDecoder();
    decoder.push(encodeWireMessage({ op: 'hello', id: 1 }));
    expect(() => decoder.push(Buffer.from([0, 1, 0x7f]))).toThrow(/stream byte 9: unknown opcode 0x7f/);
  });

  it('rejects a bad level and a zero-length body', () => {
    expect(() => new WireFrameDecoder().push(Buffer.from([0, 6, 0x81, 0, 0, 0, 1, 2]))).toThrow(WireError);
    expect(() => new WireFrameDecoder().push(Buffer.from([0, 0]))).toThrow(/body length 0/);
  });
});
