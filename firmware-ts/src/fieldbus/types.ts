// Shapes the poller works with. They are structural subsets of the @brana/hardware profile types
// (a resolved `ModbusPoint` and the profile's `bus` block satisfy them), so the poller depends on
// what it reads, not on how a profile is written.
import type { RegisterType, WordOrder } from '@brana/hardware';

export type FunctionCode = 1 | 2 | 3 | 4;
export type PollClass = 'fast' | 'slow' | 'once';
export type PointKind = 'counter' | 'gauge' | 'status';

/** Reading quality. `stale`: the last good value is older than its poll class allows. */
export type ReadingQuality = 'good' | 'suspect' | 'bad' | 'stale';

/** One point of a device as the poller needs it. */
export interface PollPoint {
  key: string;
  /** 0-based protocol address. For FC01/FC02 the address of the bit. */
  address: number;
  functionCode: FunctionCode;
  type: RegisterType;
  wordOrder: WordOrder;
  /** Registers of a `str` point. */
  words?: number;
  scale?: number;
  offset?: number;
  unit?: string;
  kind?: PointKind;
  poll: PollClass;
  range?: readonly [number, number];
  nan?: number | readonly number[];
}

/** The bus limits of a device profile that shape reads. */
export interface ReadLimits {
  /** Largest block one register read may ask for (1..125). */
  maxRegistersPerRead: number;
  /** Largest hole (registers nobody asked for) read through when coalescing. */
  gapFill: number;
  /** May unmapped registers be read without an exception? If false no hole is ever read through. */
  readableHoles: boolean;
}

/** The bus limits of a device profile that shape timing. */
export interface DeviceTiming {
  timeoutMs: number;
  /** Quiet time this device needs between the end of one transaction and the next request. */
  interFrameDelayMs: number;
}
