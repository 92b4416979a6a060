import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegisterCodecError } from '../errors.ts';
import {
  decodeValue,
  encodeValue,
  integerLimits,
  REGISTER_TYPES,
  type RegisterType,
  registerCount,
  WORD_ORDERS,
} from './codec.ts';

const hex = (regs: ArrayLike<number>) => Array.from(regs, (w) => `0x${w.toString(16).padStart(4, '0')}`);

describe('known vectors (byte-exact)', () => {
  const vectors: [RegisterType, 'big' | 'little', number | bigint | string, number[], number?][] = [
    ['f32', 'big', 230.0, [0x4366, 0x0000]],
    ['f32', 'little', 230.0, [0x0000, 0x4366]],
    ['f32', 'big', 50.0, [0x4248, 0x0000]],
    ['f32', 'big', -1.5, [0xbfc0, 0x0000]],
    ['f64', 'big', 1.0, [0x3ff0, 0, 0, 0]],
    ['f64', 'little', 1.0, [0, 0, 0, 0x3ff0]],
    ['u16', 'big', 0xbeef, [0xbeef]],
    ['i16', 'big', -1, [0xffff]],
    ['i16', 'little', -2, [0xfffe]],
    ['u32', 'big', 0x12345678, [0x1234, 0x5678]],
    ['u32', 'little', 0x12345678, [0x5678, 0x1234]],
    ['i32', 'big', -2, [0xffff, 0xfffe]],
    ['i32', 'little', -2, [0xfffe, 0xffff]],
    // Carlo Gavazzi EM24 V L1-N 230.4 V as INT32 ×10, LSW first
    ['i32', 'little', 2304, [0x0900, 0x0000]],
    ['u64', 'big', 0x0102030405060708n, [0x0102, 0x0304, 0x0506, 0x0708]],
    ['u64', 'little', 0x0102030405060708n, [0x0708, 0x0506, 0x0304, 0x0102]],
    ['i64', 'big', -1n, [0xffff, 0xffff, 0xffff, 0xffff]],
    ['str', 'big', 'SDM630', [0x5344, 0x4d36, 0x3330, 0x0000], 4],
    ['str', 'little', 'ABC', [0x4142, 0x4300], 2],
  ];
  for (const [type, order, value, regs, words] of vectors) {
    it(`${type} ${order} ${String(value)} = ${hex(regs).join(' ')}`, () => {
      expect(hex(encodeValue(type, order, value, words))).toEqual(hex(regs));
      expect(decodeValue(type, order, regs, 0, words)).toEqual(value);
    });
  }

  it('decodes at an offset inside a longer block', () => {
    const block = [0xaaaa, 0x4366, 0x0000, 0xbbbb];
    expect(decodeValue('f32', 'big', block, 1)).toBe(230);
  });
});

describe('registerCount', () => {
  it('gives the width of every fixed type', () => {
    expect(REGISTER_TYPES.filter((t) => t !== 'str').map((t) => [t, registerCount(t)])).toEqual([
      ['u16', 1],
      ['i16', 1],
      ['u32', 2],
      ['i32', 2],
      ['u64', 4],
      ['i64', 4],
      ['f32', 2],
      ['f64', 4],
    ]);
  });
  it('needs words for str', () => {
    expect(registerCount('str', 8)).toBe(8);
    expect(() => registerCount('str')).toThrow(/needs words/);
    expect(() => registerCount('str', 0)).toThrow(RegisterCodecError);
    expect(() => registerCount('str', 126)).toThrow(RegisterCodecError);
  });
});

describe('bad input is rejected with a reason', () => {
  it('out of range integers', () => {
    expect(() => encodeValue('u16', 'big', 65536)).toThrow(/does not fit type u16 \(0\.\.65535\)/);
    expect(() => encodeValue('i16', 'big', -32769)).toThrow(RegisterCodecError);
    expect(() => encodeValue('u32', 'big', -1)).toThrow(RegisterCodecError);
    expect(() => encodeValue('u64', 'big', 1n << 64n)).toThrow(RegisterCodecError);
  });
  it('fractions for integer types', () => {
    expect(() => encodeValue('i32', 'big', 1.5)).toThrow(/holds integers/);
  });
  it('strings that do not fit or are not ASCII', () => {
    expect(() => encodeValue('str', 'big', 'ABCDE', 2)).toThrow(/does not fit 2 registers/);
    expect(() => encodeValue('str', 'big', 'Brána', 4)).toThrow(/index 2 is not printable ASCII/);
  });
  it('too few registers', () => {
    expect(() => decodeValue('f32', 'big', [0x4366])).toThrow(/needs 2 registers at offset 0, but only 1/);
    expect(() => decodeValue('u64', 'big', [1, 2, 3, 4], 1)).toThrow(RegisterCodecError);
  });
  it('register values that are not 16-bit words', () => {
    expect(() => decodeValue('u16', 'big', [70000])).toThrow(/not a 16-bit word/);
  });
  it('the error carries a code and is not retryable', () => {
    try {
      encodeValue('u16', 'big', -1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RegisterCodecError);
      expect((e as RegisterCodecError).code).toBe('REGISTER_CODEC');
      expect((e as RegisterCodecError).retryable).toBe(false);
      expect((e as RegisterCodecError).message).toMatch(/Fix: /);
    }
  });
});

const intTypes = ['u16', 'i16', 'u32', 'i32', 'u64', 'i64'] as const;
const wordOrder = fc.constantFrom(...WORD_ORDERS);

describe('properties', () => {
  for (const type of intTypes) {
    const [min, max] = integerLimits(type)!;
    it(`${type}: decode(encode(x)) = x for every word order`, () => {
      fc.assert(
        fc.property(fc.bigInt({ min, max }), wordOrder, (x, order) => {
          const regs = encodeValue(type, order, x);
          expect(regs.length).toBe(registerCount(type));
          const back = decodeValue(type, order, regs);
          expect(BigInt(back as number | bigint)).toBe(x);
        }),
      );
    });
    it(`${type}: encode(decode(regs)) = regs (the codec is a bijection)`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 0xffff }), {
            minLength: registerCount(type),
            maxLength: registerCount(type),
          }),
          wordOrder,
          (regs, order) => {
            expect(Array.from(encodeValue(type, order, decodeValue(type, order, regs)))).toEqual(regs);
          },
        ),
      );
    });
  }

  it('f32: decode(encode(x)) = x for every 32-bit float (NaN, ±0, ±Infinity included)', () => {
    fc.assert(
      fc.property(fc.float(), wordOrder, (x, order) => {
        expect(Object.is(decodeValue('f32', order, encodeValue('f32', order, x)), x)).toBe(true);
      }),
    );
  });
  it('f32: a double rounds to the nearest float32', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), wordOrder, (x, order) => {
        expect(Object.is(decodeValue('f32', order, encodeValue('f32', order, x)), Math.fround(x))).toBe(true);
      }),
    );
  });
  it('f64: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(fc.double(), wordOrder, (x, order) => {
        expect(Object.is(decodeValue('f64', order, encodeValue('f64', order, x)), x)).toBe(true);
      }),
    );
  });
  it('little word order is big word order with the words reversed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('u32', 'i32', 'u64', 'i64', 'f32', 'f64'),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }),
        (type, regs) => {
          const n = registerCount(type as RegisterType);
          const big = regs.slice(0, n);
          const little = [...big].reverse();
          const a = decodeValue(type as RegisterType, 'big', big);
          const b = decodeValue(type as RegisterType, 'little', little);
          expect(Object.is(a, b) || a === b).toBe(true);
        },
      ),
    );
  });
  it('str: printable ASCII round-trips and is NUL padded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.string({
          unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
          maxLength: 40,
        }),
        wordOrder,
        (words, text, order) => {
          fc.pre(text.length <= 2 * words);
          const regs = encodeValue('str', order, text, words);
          expect(regs.length).toBe(words);
          expect(decodeValue('str', order, regs, 0, words)).toBe(text);
          const bytes = Array.from(regs).flatMap((w) => [w >> 8, w & 0xff]);
          expect(bytes.slice(text.length).every((b) => b === 0)).toBe(true);
        },
      ),
    );
  });
  it('decoding never throws on any well-formed register block', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REGISTER_TYPES),
        wordOrder,
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 8 }),
        (type, order, regs) => {
          const v = decodeValue(type, order, regs, 0, type === 'str' ? regs.length : undefined);
          expect(['number', 'bigint', 'string']).toContain(typeof v);
        },
      ),
    );
  });
});
