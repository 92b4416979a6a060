import type { z } from 'zod';
import type { modbusProfileSchema } from './schema.ts';
import type { ModbusPointInput } from './types.ts';

// Small builders with defaults (STYLE point 1), for profiles written in code: tests, ad-hoc bench
// devices, generated catalogues. They return plain profile data; pass it to `validateProfile`.

type PointOptions = Omit<ModbusPointInput, 'key' | 'address'>;

/** Any numeric point: a gauge unless told otherwise. */
export function numeric(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return { key, address, ...options };
}

/** Line voltage in V, plausible 0..300 V. */
export function voltage(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { range: [0, 300], ...options });
}

/** Current in A, plausible 0..100 A (direct-connected meters). */
export function current(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { range: [0, 100], ...options });
}

/** Active power in W; negative is export. */
export function power(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { range: [-25_000, 25_000], ...options });
}

/** Energy register: a counter, polled slowly. */
export function energy(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { kind: 'counter', poll: 'slow', range: [0, 1e7], ...options });
}

/** Grid frequency in Hz. */
export function frequency(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { range: [45, 65], ...options });
}

/** Temperature in °C, i16 ×0.1 as most RS-485 sensors send it. */
export function temperature(
  address: number,
  options: PointOptions & { key?: string } = {},
): ModbusPointInput {
  const { key = 'temperatureC', ...rest } = options;
  return numeric(key, address, { type: 'i16', scale: 0.1, range: [-40, 80], nan: 0x7fff, ...rest });
}

/** Relative humidity in %, u16 ×0.1. */
export function humidity(address: number, options: PointOptions & { key?: string } = {}): ModbusPointInput {
  const { key = 'humidityPct', ...rest } = options;
  return numeric(key, address, { type: 'u16', scale: 0.1, range: [0, 100], ...rest });
}

/** A status or mode code. */
export function status(key: string, address: number, options: PointOptions = {}): ModbusPointInput {
  return numeric(key, address, { kind: 'status', poll: 'slow', unit: '', range: [0, 0xffff], ...options });
}

type ModbusProfileInput = z.input<typeof modbusProfileSchema>;

/** A Modbus profile with `kind` filled in. */
export function modbusProfile(profile: Omit<ModbusProfileInput, 'kind'>): ModbusProfileInput {
  return { kind: 'modbus', ...profile };
}
