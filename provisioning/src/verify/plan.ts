// What the wiring check does, decided before any line is touched: which inputs to read, which
// outputs to pulse in which order, and which Modbus point to ask each device for. Pure.
import type { GatewayConfig } from '@brana/firmware';
import type { Catalogue, ModbusPoint } from '@brana/hardware';
import { InvalidInputError } from '../errors.ts';

export type GpioKind = 'sysfs' | 'bench';

export interface InputCheck {
  /** alarm, test contact, optical detector or S0 pulse input */
  role: 'alarm' | 'test-contact' | 'optical' | 'pulse';
  name: string;
  line: string;
  activeLow: boolean;
}

export interface OutputCheck {
  role: 'relay' | 'approach';
  name: string;
  line: string;
  activeLow: boolean;
  readback?: string;
}

export interface DeviceCheck {
  device: string;
  bus: string;
  unit: number;
  profile: string;
  point?: ModbusPoint;
  /** Why there is nothing to ask (a profile without points). */
  skip?: string;
}

export interface VerifyPlan {
  inputs: InputCheck[];
  /** In the order they are pulsed: one at a time, each off again before the next. */
  outputs: OutputCheck[];
  devices: DeviceCheck[];
}

/** A config's line name as the GPIO backend takes it: BCM offset on sysfs, wire name on the bench. */
export function gpioLine(kind: GpioKind, line: string, where: string): number | string {
  if (kind === 'bench') return line;
  const m = /^(?:gpio|bcm)?\s*(\d{1,2})$/i.exec(line.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 57) {
    throw new InvalidInputError(
      where,
      `line "${line}" is not a GPIO line of the board`,
      'name lines by their BCM number, e.g. GPIO17 (header pin 11), or run with --bench-socket on the bench',
    );
  }
  return n;
}

export function planVerify(config: GatewayConfig, catalogue: Catalogue): VerifyPlan {
  const inputs: InputCheck[] = config.alarms.map((a) => ({
    role: 'alarm' as const,
    name: a.name,
    line: a.line,
    activeLow: a.activeLevel === 0,
  }));
  const p = config.preemption;
  if (p?.inputs.testContact) {
    inputs.push({
      role: 'test-contact',
      name: `test contact (${p.inputs.testContact.approach})`,
      line: p.inputs.testContact.line,
      activeLow: false,
    });
  }
  for (const o of p?.inputs.optical ?? []) {
    inputs.push({
      role: 'optical',
      name: `optical detector (${o.approach})`,
      line: o.line,
      activeLow: false,
    });
  }
  for (const s of config.pulses) inputs.push({ role: 'pulse', name: s.name, line: s.line, activeLow: false });

  const outputs: OutputCheck[] = config.relays.map((r) => ({
    role: 'relay' as const,
    name: r.name,
    line: r.line,
    activeLow: r.activeLevel === 0,
  }));
  for (const a of p?.approaches ?? []) {
    outputs.push({
      role: 'approach',
      name: a.id,
      line: a.output,
      activeLow: false,
      ...(a.readback ? { readback: a.readback } : {}),
    });
  }

  const devices: DeviceCheck[] = config.devices.map((d) => {
    const profile = catalogue.get(d.profile);
    const base = { device: d.name, bus: d.bus, unit: d.unit, profile: d.profile };
    if (profile?.kind !== 'modbus')
      return { ...base, skip: `profile "${d.profile}" is not a Modbus profile` };
    const wanted =
      d.points && d.points.length > 0
        ? profile.points.find((pt) => pt.key === d.points![0])
        : profile.points[0];
    return wanted ? { ...base, point: wanted } : { ...base, skip: 'the profile has no points' };
  });
  return { inputs, outputs, devices };
}

/** Output events of a pulse sequence: which output goes on or off, in order. */
export type OutputEvent = { output: string; on: boolean };

/** The sequence the runner drives: each output on, then off, before the next one. */
export function pulseSequence(outputs: readonly OutputCheck[]): OutputEvent[] {
  return outputs.flatMap((o) => [
    { output: o.line, on: true },
    { output: o.line, on: false },
  ]);
}

/**
 * The first moment two conflicting approaches would be on together, or undefined. `conflicts`
 * maps approach ids to the ids they must never be asserted with (the config's matrix).
 */
export function firstConflict(
  events: readonly OutputEvent[],
  approachByLine: ReadonlyMap<string, string>,
  conflicts: Readonly<Record<string, readonly string[]>>,
): { index: number; a: string; b: string } | undefined {
  const on = new Set<string>();
  for (const [index, e] of events.entries()) {
    if (!e.on) {
      on.delete(e.output);
      continue;
    }
    const a = approachByLine.get(e.output);
    if (a !== undefined) {
      for (const line of on) {
        const b = approachByLine.get(line);
        if (b !== undefined && (conflicts[a]?.includes(b) || conflicts[b]?.includes(a)))
          return { index, a, b };
      }
    }
    on.add(e.output);
  }
  return undefined;
}
