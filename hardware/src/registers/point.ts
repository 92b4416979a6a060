import { RegisterCodecError } from '../errors.ts';
import {
  decodeValue,
  encodeValue,
  integerLimits,
  type RawValue,
  type RegisterType,
  registerCount,
  type WordOrder,
} from './codec.ts';

/**
 * What the point layer needs to know about a point. A resolved `ModbusPoint` from a device profile
 * satisfies it; the simulator and the poller may also build one by hand.
 */
export interface CodecPoint {
  key?: string;
  type: RegisterType;
  wordOrder: WordOrder;
  /** Registers of a `str` point. */
  words?: number;
  /** engineering = raw · scale + offset. Default 1. */
  scale?: number;
  /** Default 0. */
  offset?: number;
  /** Plausible engineering range [min, max]; outside it the reading is `suspect`. */
  range?: readonly [number, number];
  /** Raw value(s) the device sends for "no reading" (e.g. 0x7FFF, 0xFFFFFFFF). */
  nan?: number | readonly number[];
}

export type Quality = 'good' | 'suspect' | 'bad';

export interface PointReading {
  /** Engineering value; null when the raw value is a NaN sentinel or not a finite number. */
  value: number | string | null;
  raw: RawValue;
  quality: Quality;
}

function isSentinel(raw: RawValue, nan: CodecPoint['nan']): boolean {
  if (nan === undefined || typeof raw === 'string') return false;
  const list = typeof nan === 'number' ? [nan] : nan;
  for (const s of list) {
    if (typeof raw === 'bigint') {
      if (Number.isInteger(s) && BigInt(s) === raw) return true;
    } else if (Object.is(raw, s) || raw === s) {
      return true;
    }
  }
  return false;
}

/** Decodes one point from its registers (wire order, starting at `offset`). Never throws on odd data. */
export function decodePoint(point: CodecPoint, regs: ArrayLike<number>, offset = 0): PointReading {
  const raw = decodeValue(point.type, point.wordOrder, regs, offset, point.words);
  if (typeof raw === 'string') return { value: raw, raw, quality: 'good' };
  if (isSentinel(raw, point.nan)) return { value: null, raw, quality: 'bad' };
  const value = Number(raw) * (point.scale ?? 1) + (point.offset ?? 0);
  if (!Number.isFinite(value)) return { value: null, raw, quality: 'bad' };
  const range = point.range;
  const quality: Quality = range && (value < range[0] || value > range[1]) ? 'suspect' : 'good';
  return { value, raw, quality };
}

/**
 * Inverse of `decodePoint`: the registers a device would send for `value` (engineering units).
 * Integer types round raw = (value − offset) / scale to the nearest integer.
 */
export function encodePoint(point: CodecPoint, value: number | string): Uint16Array {
  const name = point.key === undefined ? 'point' : `point ${point.key}`;
  if (point.type === 'str') {
    if (typeof value !== 'string') {
      throw new RegisterCodecError(`${name} is text (str), got ${String(value)}`, 'pass a string');
    }
    return encodeValue('str', point.wordOrder, value, point.words);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RegisterCodecError(
      `${name} needs a finite number, got ${String(value)}`,
      'pass a finite number',
    );
  }
  const scale = point.scale ?? 1;
  if (scale === 0) throw new RegisterCodecError(`${name} has scale 0`, 'give the point a non-zero scale');
  const raw = (value - (point.offset ?? 0)) / scale;
  if (point.type === 'f32' || point.type === 'f64') return encodeValue(point.type, point.wordOrder, raw);
  const rounded = Math.round(raw);
  const limits = integerLimits(point.type)!;
  const big = BigInt(rounded);
  if (big < limits[0] || big > limits[1]) {
    throw new RegisterCodecError(
      `${name}: ${value} needs raw value ${rounded}, outside type ${point.type} (${limits[0]}..${limits[1]})`,
      'pass a value inside the point range, or fix the point type or scale',
    );
  }
  const isWide = point.type === 'u64' || point.type === 'i64';
  return encodeValue(point.type, point.wordOrder, isWide ? big : rounded);
}

/** Registers a point occupies. */
export function pointRegisterCount(point: Pick<CodecPoint, 'type' | 'words'>): number {
  return registerCount(point.type, point.words);
}
