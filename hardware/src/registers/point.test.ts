import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegisterCodecError } from '../errors.ts';
import { type CodecPoint, decodePoint, encodePoint } from './point.ts';

describe('decodePoint', () => {
  it('applies scale and offset: engineering = raw · scale + offset', () => {
    const p: CodecPoint = { type: 'i32', wordOrder: 'little', scale: 0.1, offset: 0 };
    expect(decodePoint(p, [2304, 0])).toEqual({ value: 230.4, raw: 2304, quality: 'good' });
    const t: CodecPoint = { type: 'u16', wordOrder: 'big', scale: 0.5, offset: -40 };
    expect(decodePoint(t, [100]).value).toBe(10);
  });
  it('a NaN sentinel gives null and bad', () => {
    const p: CodecPoint = { type: 'i16', wordOrder: 'big', scale: 0.1, nan: 0x7fff };
    expect(decodePoint(p, [0x7fff])).toEqual({ value: null, raw: 0x7fff, quality: 'bad' });
    const list: CodecPoint = { type: 'u32', wordOrder: 'big', nan: [0xffffffff, 0xfffffffe] };
    expect(decodePoint(list, [0xffff, 0xfffe]).quality).toBe('bad');
    const wide: CodecPoint = { type: 'u64', wordOrder: 'big', nan: 2 ** 40 };
    expect(decodePoint(wide, [0, 0x100, 0, 0]).quality).toBe('bad');
  });
  it('an IEEE NaN or infinity gives null and bad', () => {
    const p: CodecPoint = { type: 'f32', wordOrder: 'big' };
    expect(decodePoint(p, [0x7fc0, 0]).quality).toBe('bad');
    expect(decodePoint(p, [0x7f80, 0])).toEqual({
      value: null,
      raw: Number.POSITIVE_INFINITY,
      quality: 'bad',
    });
  });
  it('outside the plausible range is suspect, the value is kept', () => {
    const p: CodecPoint = { type: 'f32', wordOrder: 'big', range: [0, 300] };
    expect(decodePoint(p, [0x4366, 0])).toMatchObject({ value: 230, quality: 'good' });
    expect(decodePoint(p, [0xbfc0, 0])).toEqual({ value: -1.5, raw: -1.5, quality: 'suspect' });
  });
  it('text points pass through', () => {
    expect(decodePoint({ type: 'str', wordOrder: 'big', words: 2 }, [0x4142, 0x4300]).value).toBe('ABC');
  });
  it('reads at an offset in a coalesced block', () => {
    expect(decodePoint({ type: 'u16', wordOrder: 'big', scale: 2 }, [9, 9, 21], 2).value).toBe(42);
  });
});

describe('encodePoint', () => {
  it('is the inverse of decodePoint on known values', () => {
    const p: CodecPoint = { key: 'voltageL1V', type: 'i32', wordOrder: 'little', scale: 0.1 };
    expect(Array.from(encodePoint(p, 230.4))).toEqual([2304, 0]);
    expect(Array.from(encodePoint({ type: 'f32', wordOrder: 'big' }, 230))).toEqual([0x4366, 0]);
  });
  it('rejects values the type cannot hold, naming the point', () => {
    const p: CodecPoint = { key: 'temperatureC', type: 'i16', wordOrder: 'big', scale: 0.1 };
    expect(() => encodePoint(p, 5000)).toThrow(
      /point temperatureC: 5000 needs raw value 50000, outside type i16/,
    );
    expect(() => encodePoint(p, Number.NaN)).toThrow(RegisterCodecError);
    expect(() => encodePoint(p, 'x')).toThrow(/finite number/);
    expect(() => encodePoint({ type: 'u16', wordOrder: 'big', scale: 0 }, 1)).toThrow(/scale 0/);
  });
});

describe('properties', () => {
  const scaled = fc.record({
    type: fc.constantFrom('u16', 'i16', 'u32', 'i32', 'u64', 'i64' as const),
    wordOrder: fc.constantFrom('big', 'little' as const),
    scale: fc.constantFrom(1, 0.1, 0.01, 0.001, 10, 0.5),
    offset: fc.constantFrom(0, -40, 100),
  });
  it('integer points: decode(encode(v)) is within half a scale step of v', () => {
    fc.assert(
      fc.property(scaled, fc.integer({ min: 0, max: 30000 }), (p, k) => {
        const point = p as CodecPoint;
        const v = k * 0.37 * (point.scale ?? 1) + (point.offset ?? 0);
        const back = decodePoint(point, encodePoint(point, v));
        expect(back.quality).toBe('good');
        expect(Math.abs((back.value as number) - v)).toBeLessThanOrEqual(
          (point.scale ?? 1) / 2 + 1e-9 * Math.abs(v),
        );
      }),
    );
  });
  it('float points: decode(encode(v)) equals v within float32 precision', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.constantFrom('big', 'little' as const),
        (v, order) => {
          const back = decodePoint(
            { type: 'f32', wordOrder: order },
            encodePoint({ type: 'f32', wordOrder: order }, v),
          );
          // -0 decodes to +0 (raw · 1 + 0): numeric equality, not Object.is
          expect(back.value === Math.fround(v)).toBe(true);
        },
      ),
    );
  });
  it('quality is suspect exactly when the value leaves the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (raw) => {
        const p: CodecPoint = { type: 'i16', wordOrder: 'big', scale: 0.1, range: [-40, 80] };
        const r = decodePoint(p, [raw & 0xffff]);
        const v = raw * 0.1;
        expect(r.quality).toBe(v < -40 || v > 80 ? 'suspect' : 'good');
      }),
    );
  });
});
