import { RegisterCodecError } from '../errors.ts';

/** Register data types. 64-bit integers decode to bigint, `str` to a string, the rest to number. */
export const REGISTER_TYPES = ['u16', 'i16', 'u32', 'i32', 'u64', 'i64', 'f32', 'f64', 'str'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/**
 * Order of the 16-bit words of a multi-register value. Bytes inside a word are always big-endian
 * (Modbus Application Protocol v1.1b3 §4.2). `big`: most significant word first ("ABCD", Eastron);
 * `little`: least significant word first ("CDAB", Carlo Gavazzi INT32). Ignored for 16-bit and `str`.
 */
export const WORD_ORDERS = ['big', 'little'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export type RawValue = number | bigint | string;

/** Most registers one `str` may span: a Modbus read returns at most 125 registers. */
export const MAX_STR_WORDS = 125;

const FIXED_WIDTH: Record<Exclude<RegisterType, 'str'>, number> = {
  u16: 1,
  i16: 1,
  u32: 2,
  i32: 2,
  u64: 4,
  i64: 4,
  f32: 2,
  f64: 4,
};

export function isRegisterType(value: unknown): value is RegisterType {
  return typeof value === 'string' && (REGISTER_TYPES as readonly string[]).includes(value);
}

/** Number of 16-bit registers a value of `type` occupies; `str` needs `words`. */
export function registerCount(type: RegisterType, words?: number): number {
  if (type === 'str') {
    if (words === undefined || !Number.isInteger(words) || words < 1 || words > MAX_STR_WORDS) {
      throw new RegisterCodecError(
        `type str needs words between 1 and ${MAX_STR_WORDS}, got ${String(words)}`,
        'give the string length in registers as `words` (2 ASCII characters per register)',
      );
    }
    return words;
  }
  const width = FIXED_WIDTH[type];
  if (width === undefined) {
    throw new RegisterCodecError(
      `unknown register type "${String(type)}"`,
      `use one of ${REGISTER_TYPES.join(', ')}`,
    );
  }
  return width;
}

/** Integer limits of the integer types, as bigint so 64-bit limits are exact. */
const INT_LIMITS: Record<'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64', readonly [bigint, bigint]> = {
  u16: [0n, 0xffffn],
  i16: [-0x8000n, 0x7fffn],
  u32: [0n, 0xffff_ffffn],
  i32: [-0x8000_0000n, 0x7fff_ffffn],
  u64: [0n, 0xffff_ffff_ffff_ffffn],
  i64: [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
};

/** Inclusive [min, max] raw range of an integer type, or undefined for floats and strings. */
export function integerLimits(type: RegisterType): readonly [bigint, bigint] | undefined {
  return type in INT_LIMITS ? INT_LIMITS[type as keyof typeof INT_LIMITS] : undefined;
}

function toWords(bytes: Uint8Array, wordOrder: WordOrder): Uint16Array {
  const n = bytes.length / 2;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const word = (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;
    out[wordOrder === 'big' ? i : n - 1 - i] = word;
  }
  return out;
}

function toBytes(regs: ArrayLike<number>, offset: number, n: number, wordOrder: WordOrder): Uint8Array {
  const bytes = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    const word = regs[offset + (wordOrder === 'big' ? i : n - 1 - i)]!;
    bytes[2 * i] = (word >> 8) & 0xff;
    bytes[2 * i + 1] = word & 0xff;
  }
  return bytes;
}

function checkInteger(type: keyof typeof INT_LIMITS, value: number | bigint | string): bigint {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
  else {
    throw new RegisterCodecError(
      `type ${type} holds integers, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
      'round the raw value to an integer, or declare the point as f32/f64',
    );
  }
  const [min, max] = INT_LIMITS[type];
  if (big < min || big > max) {
    throw new RegisterCodecError(
      `raw value ${big} does not fit type ${type} (${min}..${max})`,
      'use a wider type, or a scale that brings the raw value into range',
    );
  }
  return big;
}

/**
 * Encodes a raw value into registers, in wire order.
 * Integers accept number or bigint; floats accept number; `str` accepts ASCII text of at most
 * 2·words characters, NUL-padded, high byte first.
 */
export function encodeValue(
  type: RegisterType,
  wordOrder: WordOrder,
  value: RawValue,
  words?: number,
): Uint16Array {
  const n = registerCount(type, words);
  if (type === 'str') {
    if (typeof value !== 'string') {
      throw new RegisterCodecError(`type str holds text, got ${String(value)}`, 'pass a string');
    }
    if (value.length > 2 * n) {
      throw new RegisterCodecError(
        `text of ${value.length} characters does not fit ${n} registers (${2 * n} characters)`,
        'shorten the text or raise `words`',
      );
    }
    const bytes = new Uint8Array(2 * n);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 1 || c > 0x7f) {
        throw new RegisterCodecError(
          `character ${JSON.stringify(value[i])} at index ${i} is not printable ASCII`,
          'registers hold ASCII only: replace the character',
        );
      }
      bytes[i] = c;
    }
    return toWords(bytes, 'big');
  }
  const bytes = new Uint8Array(2 * n);
  const view = new DataView(bytes.buffer);
  if (type === 'f32' || type === 'f64') {
    if (typeof value !== 'number') {
      throw new RegisterCodecError(`type ${type} holds numbers, got ${String(value)}`, 'pass a number');
    }
    if (type === 'f32') view.setFloat32(0, value, false);
    else view.setFloat64(0, value, false);
    return toWords(bytes, wordOrder);
  }
  const big = checkInteger(type, value);
  switch (type) {
    case 'u16':
    case 'i16':
      view.setUint16(0, Number(BigInt.asUintN(16, big)), false);
      break;
    case 'u32':
    case 'i32':
      view.setUint32(0, Number(BigInt.asUintN(32, big)), false);
      break;
    case 'u64':
    case 'i64':
      view.setBigUint64(0, BigInt.asUintN(64, big), false);
      break;
  }
  return toWords(bytes, wordOrder);
}

/**
 * Decodes `registerCount(type, words)` registers starting at `offset` of `regs` (wire order).
 * u64/i64 return bigint (exact); `str` returns the text up to the first NUL.
 */
export function decodeValue(
  type: RegisterType,
  wordOrder: WordOrder,
  regs: ArrayLike<number>,
  offset = 0,
  words?: number,
): RawValue {
  const n = registerCount(type, type === 'str' ? (words ?? regs.length - offset) : undefined);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > regs.length) {
    throw new RegisterCodecError(
      `type ${type} needs ${n} register${n > 1 ? 's' : ''} at offset ${offset}, but only ${Math.max(0, regs.length - offset)} are available`,
      'read the full width of the point (see registerCount)',
    );
  }
  for (let i = offset; i < offset + n; i++) {
    const w = regs[i]!;
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) {
      throw new RegisterCodecError(
        `register ${i} holds ${w}, not a 16-bit word`,
        'pass 16-bit register values',
      );
    }
  }
  if (type === 'str') {
    const bytes = toBytes(regs, offset, n, 'big');
    let text = '';
    for (const b of bytes) {
      if (b === 0) break;
      text += String.fromCharCode(b);
    }
    return text;
  }
  const view = new DataView(toBytes(regs, offset, n, wordOrder).buffer);
  switch (type) {
    case 'u16':
      return view.getUint16(0, false);
    case 'i16':
      return view.getInt16(0, false);
    case 'u32':
      return view.getUint32(0, false);
    case 'i32':
      return view.getInt32(0, false);
    case 'u64':
      return view.getBigUint64(0, false);
    case 'i64':
      return view.getBigInt64(0, false);
    case 'f32':
      return view.getFloat32(0, false);
    case 'f64':
      return view.getFloat64(0, false);
  }
}
