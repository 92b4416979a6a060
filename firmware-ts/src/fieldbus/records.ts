// What the poller sends to the gateway agent. One record per reading, closed quarter-hour,
// status change or fault; the IPC link adds (bootEpoch, seq) and delivers them exactly once.
import type { CounterEvent } from './counter.ts';
import type { IntervalQuality } from './quarter-hours.ts';
import type { ReadingQuality } from './types.ts';

export interface ReadingRecord {
  kind: 'reading';
  /** `<device>.<point key>` (S0 inputs: `<input name>.energyKWh`, `.powerW`, …). */
  channel: string;
  device: string;
  point: string;
  value: number | string | null;
  unit?: string;
  quality: ReadingQuality;
  /** Wall time the value was read, ms. */
  atMs: number;
  /** Counters only: the monotonic total (survives rollover, reset, replacement, restarts). */
  total?: number;
}

export interface IntervalRecord {
  kind: 'interval';
  channel: string;
  device: string;
  point: string;
  /** UTC start and end of the quarter hour, ms. */
  startMs: number;
  endMs: number;
  delta: number;
  unit?: string;
  quality: IntervalQuality;
}

export type DeviceState = 'online' | 'offline';

export interface DeviceStatusRecord {
  kind: 'device-status';
  device: string;
  bus: string;
  state: DeviceState;
  /** Why: the last error after retries when going offline; "answered" when coming back. */
  reason: string;
  atMs: number;
}

export interface BusStatusRecord {
  kind: 'bus-status';
  bus: string;
  state: 'up' | 'down';
  reason: string;
  atMs: number;
}

/**
 * A failed request attempt, or an exception answer. `final`: no retry follows (retries used up,
 * or not retryable); a fault that is not final was followed by a retry. The device may still be online.
 */
export interface FaultRecord {
  kind: 'fault';
  device: string;
  bus: string;
  /** Stable error code: MODBUS_TIMEOUT, MODBUS_CRC, MODBUS_EXCEPTION, MODBUS_BAD_RESPONSE, … */
  code: string;
  message: string;
  functionCode: number;
  address: number;
  count: number;
  /** 0 for the first try. */
  attempt: number;
  final: boolean;
  atMs: number;
}

export interface CounterEventRecord {
  kind: 'counter-event';
  channel: string;
  device: string;
  point: string;
  event: Exclude<CounterEvent, 'first'>;
  /** Meter value before and after. */
  from: number;
  to: number;
  atMs: number;
}

export type FieldbusRecord =
  | ReadingRecord
  | IntervalRecord
  | DeviceStatusRecord
  | BusStatusRecord
  | FaultRecord
  | CounterEventRecord;

/**
 * Where records go. The IPC `AgentLink` satisfies it; `send` returns false when the record was
 * dropped (queue full), which the poller counts rather than hides.
 */
export interface FieldbusSink {
  send(record: FieldbusRecord): boolean;
}
