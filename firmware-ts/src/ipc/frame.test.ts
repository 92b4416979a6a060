import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpcFrameError } from './errors.ts';
import { encodeFrame, FrameDecoder, type FrameType } from './frame.ts';

const frameArb = fc.record({
  type: fc.constantFrom<FrameType>('hello', 'batch', 'ack', 'error', 'values'),
  body: fc.string({ unit: 'grapheme', maxLength: 200 }),
});

/** Splits a buffer at the given cut points (sorted, deduplicated, within bounds). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('FrameDecoder', () => {
  it('yields the same frames however the stream is split or coalesced', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.body)));
          const decoder = new FrameDecoder();
          const got = split(stream, cuts).flatMap((chunk) => decoder.push(chunk));
          expect(got.map((f) => ({ type: f.type, body: f.body }))).toEqual(frames);
          expect(decoder.bufferedBytes).toBe(0);
          // Offsets point at each frame's first byte.
          let offset = 0;
          got.forEach((f, i) => {
            expect(f.offset).toBe(offset);
            offset += encodeFrame(frames[i]!.type, frames[i]!.body).length;
          });
        },
      ),
    );
  });

  it('holds back an incomplete frame until the rest arrives', () => {
    const whole = encodeFrame('ack', '{"seq":7}');
    const d = new FrameDecoder();
    expect(d.push(whole.subarray(0, 5))).toEqual([]);
    expect(d.bufferedBytes).toBe(5);
    expect(d.push(whole.subarray(5))).toEqual([{ type: 'ack', body: '{"seq":7}', offset: 0 }]);
  });

  it('rejects garbage with an error naming the byte offset, then stays failed', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 5 }),
        fc.uint8Array({ minLength: 6, maxLength: 64 }).filter((g) => {
          // Garbage whose header happens to be valid would be a frame; keep only invalid headers.
          const b = Buffer.from(g);
          const len = b.readUInt32BE(0);
          return len < 2 || len > 1024 || b[4] !== 1 || b[5]! < 1 || b[5]! > 4;
        }),
        (frames, garbage) => {
          const good = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.body)));
          const d = new FrameDecoder(1024);
          expect(d.push(good)).toHaveLength(frames.length);
          let caught: unknown;
          try {
            d.push(garbage);
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(IpcFrameError);
          expect((caught as IpcFrameError).offset).toBe(good.length);
          expect((caught as Error).message).toMatch(new RegExp(`^IPC stream byte ${good.length}: .*Fix: `));
          expect(() => d.push(encodeFrame('ack', '{}'))).toThrow(IpcFrameError);
        },
      ),
    );
  });

  it('rejects an oversized length before buffering the body', () => {
    const d = new FrameDecoder(100);
    const header = Buffer.from([0, 0, 1, 0, 1, 2]);
    expect(() => d.push(header)).toThrow(/frame length 256 exceeds the limit of 100 bytes/);
  });

  it('rejects an unknown version', () => {
    const f = encodeFrame('hello', '{}');
    f[4] = 9;
    expect(() => new FrameDecoder().push(f)).toThrow(/protocol version 9, this side speaks 1/);
  });
});
