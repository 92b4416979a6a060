import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc16Ccitt,
  type DecodedFrame,
  emptyDecodedFrame,
  FRAME_BYTES,
  FrameFieldError,
  frameToFields,
  type PriorityRequestFields,
  REQUEST_TYPES,
  readFrameFields,
  VEHICLE_ROLES,
} from './frame.ts';
import {
  encodeSignedFrame,
  generateVehicleKey,
  vehicleKeyFromSeed,
  verifyFrameSignature,
} from './signing.ts';
import { PriorityFrameDecoder } from './stream-decoder.ts';

// Fixed seed: Ed25519 signatures are deterministic, so the whole frame is reproducible.
const KEY = vehicleKeyFromSeed(Buffer.alloc(32, 7).toString('base64url'));

const SAMPLE: PriorityRequestFields = {
  type: 'update',
  role: 'ambulance',
  importance: 14,
  inbound: 3,
  outbound: 1,
  requestId: 0x2a,
  counter: 0x01020304,
  intersectionId: 0x0000abcd,
  vehicleId: 0xdeadbeef,
  keyHint: KEY.keyHint,
  etaS: 12.3,
  latDeg: 50.0755381,
  lonDeg: -14.4378005,
  headingDeg: 271.5,
  speedMps: 13.89,
  generatedMs: 1_763_900_000_123,
};

function decodeAll(bytes: Uint8Array, chunks: number[] = [bytes.length]) {
  const d = new PriorityFrameDecoder();
  const out: { fields: PriorityRequestFields; raw: Buffer }[] = [];
  const collect = (buf: Buffer, off: number, f: DecodedFrame) => {
    out.push({ fields: frameToFields(f), raw: Buffer.from(buf.subarray(off, off + FRAME_BYTES)) });
  };
  let at = 0;
  for (const n of chunks) {
    d.push(bytes.subarray(at, at + n), collect);
    at += n;
  }
  if (at < bytes.length) d.push(bytes.subarray(at), collect);
  return { out, counts: d.counts, decoder: d };
}

describe('priority frame layout', () => {
  it('CRC-16/CCITT-FALSE has the catalogue check value', () => {
    expect(crc16Ccitt(Buffer.from('123456789', 'ascii'))).toBe(0x29b1);
  });

  it('puts every field at its documented offset, byte for byte', () => {
    const f = encodeSignedFrame(SAMPLE, KEY.privateKey);
    expect(f.length).toBe(116);
    const hex = (a: number, b: number) => f.subarray(a, b).toString('hex');
    expect(hex(0, 4)).toBe('b552016e'); // sync, version 1, length 110
    expect(hex(4, 10)).toBe('01000e03012a'); // update, ambulance, importance 14, in 3, out 1, req 42
    expect(hex(10, 14)).toBe('01020304'); // counter
    expect(hex(14, 18)).toBe('0000abcd'); // intersection
    expect(hex(18, 22)).toBe('deadbeef'); // vehicle
    expect(hex(22, 30)).toBe(Buffer.from(KEY.keyHint).toString('hex'));
    expect(hex(30, 32)).toBe('007b'); // ETA 12.3 s = 123 ds
    expect(hex(32, 36)).toBe((500755381).toString(16).padStart(8, '0')); // latitude 1e-7 deg
    expect(hex(36, 40)).toBe((-144378005 >>> 0).toString(16)); // two's complement
    expect(hex(40, 42)).toBe((27150).toString(16).padStart(4, '0')); // heading 0.01 deg
    expect(hex(42, 44)).toBe((1389).toString(16).padStart(4, '0')); // speed 0.01 m/s
    expect(hex(44, 50)).toBe((1_763_900_000_123).toString(16).padStart(12, '0'));
    const crc = crc16Ccitt(f, 2, 114);
    expect(f.readUInt16BE(114)).toBe(crc);
    expect(verifyFrameSignature(f, 0, KEY.publicKey)).toBe(true);
  });

  it('is reproducible for a fixed key (deterministic Ed25519)', () => {
    expect(encodeSignedFrame(SAMPLE, KEY.privateKey).equals(encodeSignedFrame(SAMPLE, KEY.privateKey))).toBe(
      true,
    );
  });

  it('rejects a field out of range with the field name', () => {
    expect(() => encodeSignedFrame({ ...SAMPLE, importance: 15 }, KEY.privateKey)).toThrow(FrameFieldError);
    expect(() => encodeSignedFrame({ ...SAMPLE, headingDeg: 360 }, KEY.privateKey)).toThrow(/headingDeg/);
    expect(() => encodeSignedFrame({ ...SAMPLE, latDeg: Number.NaN }, KEY.privateKey)).toThrow(/latDeg/);
  });

  it('a signature made by another key, or over altered bytes, does not verify', () => {
    const other = generateVehicleKey();
    const f = encodeSignedFrame(SAMPLE, KEY.privateKey);
    expect(verifyFrameSignature(f, 0, other.publicKey)).toBe(false);
    f[20] = f[20]! ^ 1;
    expect(verifyFrameSignature(f, 0, KEY.publicKey)).toBe(false);
  });
});

const fieldsArb: fc.Arbitrary<PriorityRequestFields> = fc.record({
  type: fc.constantFrom(...REQUEST_TYPES),
  role: fc.constantFrom(...VEHICLE_ROLES),
  importance: fc.integer({ min: 0, max: 14 }),
  inbound: fc.integer({ min: 0, max: 255 }),
  outbound: fc.integer({ min: 0, max: 255 }),
  requestId: fc.integer({ min: 0, max: 255 }),
  counter: fc.integer({ min: 0, max: 0xffffffff }),
  intersectionId: fc.integer({ min: 0, max: 0xffffffff }),
  vehicleId: fc.integer({ min: 0, max: 0xffffffff }),
  keyHint: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  etaS: fc.integer({ min: 0, max: 0xffff }).map((x) => x / 10),
  latDeg: fc.integer({ min: -900_000_000, max: 900_000_000 }).map((x) => x / 1e7),
  lonDeg: fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }).map((x) => x / 1e7),
  headingDeg: fc.integer({ min: 0, max: 35_999 }).map((x) => x / 100),
  speedMps: fc.integer({ min: 0, max: 0xffff }).map((x) => x / 100),
  generatedMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
});

describe('priority frame round trip (property)', () => {
  it('decode(encode(fields)) returns the fields, in any chunking', () => {
    fc.assert(
      fc.property(fieldsArb, fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 10 }), (fields, cuts) => {
        const frame = encodeSignedFrame(fields, KEY.privateKey);
        const { out, counts } = decodeAll(frame, cuts);
        expect(out).toHaveLength(1);
        const got = out[0]!.fields;
        expect({ ...got, keyHint: [...got.keyHint] }).toEqual({ ...fields, keyHint: [...fields.keyHint] });
        expect(counts.badCrc + counts.badHeader + counts.skippedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('readFrameFields reuses the object it is given', () => {
    const into: DecodedFrame = emptyDecodedFrame();
    const f = encodeSignedFrame(SAMPLE, KEY.privateKey);
    expect(readFrameFields(f, 0, into)).toBe(into);
    expect(into.vehicleId).toBe(0xdeadbeef);
    expect(into.lonE7).toBe(-144378005);
  });
});

type Piece =
  | { kind: 'frame' }
  | { kind: 'noise'; bytes: Uint8Array }
  | { kind: 'truncated'; keep: number }
  | { kind: 'flip'; at: number; mask: number };

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Piece>({ kind: 'frame' }) },
  fc.record({ kind: fc.constant('noise' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 60 }) }),
  fc.record({ kind: fc.constant('truncated' as const), keep: fc.integer({ min: 1, max: FRAME_BYTES - 1 }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.integer({ min: 2, max: FRAME_BYTES - 1 }),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
);

describe('decoder under garbled, truncated and noisy input (fuzz)', () => {
  it('decodes exactly the intact frames, in order, counts what it dropped, and resynchronises', () => {
    let n = 0;
    const frames = Array.from({ length: 20 }, () =>
      encodeSignedFrame({ ...SAMPLE, counter: n++ }, KEY.privateKey),
    );
    fc.assert(
      fc.property(
        fc.array(pieceArb, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 }),
        (pieces, cuts) => {
          const parts: Uint8Array[] = [];
          const intact: number[] = [];
          let corrupted = 0;
          pieces.forEach((p, i) => {
            const f = Buffer.from(frames[i]!);
            if (p.kind === 'frame') {
              parts.push(f);
              intact.push(i);
            } else if (p.kind === 'noise') {
              parts.push(p.bytes);
            } else if (p.kind === 'truncated') {
              parts.push(f.subarray(0, p.keep));
              corrupted++;
            } else {
              f[p.at] = f[p.at]! ^ p.mask;
              parts.push(f);
              corrupted++;
            }
          });
          // A frame at the very end follows everything else intact, proving the resync.
          parts.push(frames[19]!);
          intact.push(19);
          const stream = Buffer.concat(parts);
          const { out, counts, decoder } = decodeAll(stream, cuts);
          decoder.flush();
          expect(out.map((o) => o.fields.counter)).toEqual(intact);
          for (const o of out) expect(verifyFrameSignature(o.raw, 0, KEY.publicKey)).toBe(true);
          if (corrupted > 0) {
            expect(counts.badCrc + counts.badHeader + counts.truncated + counts.skippedBytes).toBeGreaterThan(
              0,
            );
          }
          expect(counts.frames).toBe(intact.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a frame cut off at the end of a datagram as truncated on flush', () => {
    const d = new PriorityFrameDecoder();
    const f = encodeSignedFrame(SAMPLE, KEY.privateKey);
    d.push(f.subarray(0, 60), () => expect.unreachable());
    expect(d.pending).toBe(60);
    d.flush();
    expect(d.counts.truncated).toBe(1);
    let got = 0;
    d.push(f, () => got++);
    expect(got).toBe(1);
  });

  it('survives a stream larger than its buffer', () => {
    const d = new PriorityFrameDecoder(256);
    const f = encodeSignedFrame(SAMPLE, KEY.privateKey);
    const big = Buffer.concat(Array.from({ length: 50 }, () => f));
    let got = 0;
    d.push(big, () => got++);
    expect(got).toBe(50);
  });
});
