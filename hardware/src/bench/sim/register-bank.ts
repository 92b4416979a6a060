// A simulated Modbus device: serves a device profile's points from four register tables with values
// produced by the profile's `sim` models in simulated time, and stores writes to writable points.

import { ExceptionCode, type ModbusRequest, type ModbusResponse } from '../../modbus/index.ts';
import type { ModbusPoint, ModbusProfile } from '../../profiles/index.ts';
import { simDependencies } from '../../profiles/index.ts';
import { decodePoint, encodePoint, pointRegisterCount } from '../../registers/index.ts';
import type { ModbusHandler } from '../modbus-sim/device.ts';
import type { Clock } from './clock.ts';
import { type Random, seededRandom, uniform } from './random.ts';

type Value = number | string;
type Table = 1 | 2 | 3 | 4;

interface Slot {
  point: ModbusPoint;
  word: number;
}

/** Largest simulated step: models advance in steps of at most this, so integrals follow the walks. */
const STEP_MS = 1000;
/** After a long pause (or a fast clock), steps grow so one read never does more than this many. */
const MAX_STEPS = 5000;
const PER_S = { s: 1, min: 60, h: 3600 } as const;

function sortByDependencies(points: readonly ModbusPoint[]): ModbusPoint[] {
  const byKey = new Map(points.map((p) => [p.key, p]));
  const out: ModbusPoint[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: ModbusPoint): void => {
    const s = state.get(p.key);
    if (s === 'done' || s === 'visiting') return; // cycles are rejected by the profile invariants
    state.set(p.key, 'visiting');
    for (const dep of simDependencies(p.sim)) {
      const d = byKey.get(dep);
      if (d !== undefined) visit(d);
    }
    state.set(p.key, 'done');
    out.push(p);
  };
  for (const p of points) visit(p);
  return out;
}

function isNight(ms: number, [from, to]: readonly [number, number]): boolean {
  const h = new Date(ms).getHours();
  return from <= to ? h >= from && h < to : h >= from || h < to;
}

export interface RegisterBankOptions {
  clock: Clock;
  /** Seed of the random walks; default the profile's sim.seed, else 1. */
  seed?: number;
}

export class RegisterBank implements ModbusHandler {
  readonly profile: ModbusProfile;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly order: ModbusPoint[];
  private readonly values = new Map<string, Value>();
  private readonly overrides = new Map<string, Value>();
  /** Current daytime water draw of each flow point. */
  private readonly draws = new Map<string, { m3h: number; untilMs: number }>();
  private readonly slots: Record<Table, Map<number, Slot>> = {
    1: new Map(),
    2: new Map(),
    3: new Map(),
    4: new Map(),
  };
  private encoded = new Map<string, Uint16Array>();
  private lastMs: number;

  constructor(profile: ModbusProfile, options: RegisterBankOptions) {
    this.profile = profile;
    this.clock = options.clock;
    this.random = seededRandom(options.seed ?? profile.sim.seed ?? 1);
    this.order = sortByDependencies(profile.points);
    for (const p of profile.points) {
      const n = p.functionCode === 1 || p.functionCode === 2 ? 1 : pointRegisterCount(p);
      for (let w = 0; w < n; w++) this.slots[p.functionCode].set(p.address + w, { point: p, word: w });
    }
    this.lastMs = this.clock.nowMs();
    for (const p of this.order) this.values.set(p.key, this.initial(p));
  }

  private initial(p: ModbusPoint): Value {
    const sim = p.sim;
    if (sim === undefined) return p.type === 'str' ? '' : p.range ? (p.range[0] + p.range[1]) / 2 : 0;
    if ('constant' in sim) return sim.constant;
    if ('walk' in sim) return sim.walk.start ?? (sim.walk.min + sim.walk.max) / 2;
    if ('integral' in sim) return sim.integral.start;
    if ('flow' in sim) {
      return sim.flow.nightLeakM3H + (isNight(this.lastMs, sim.flow.nightHours) ? 0 : sim.flow.baseM3H);
    }
    return this.derived(p);
  }

  private num(key: string): number {
    const v = this.values.get(key);
    return typeof v === 'number' ? v : 0;
  }

  private derived(p: ModbusPoint): Value {
    const sim = p.sim;
    if (sim !== undefined && 'follow' in sim) {
      const divisor = sim.divideBy === undefined ? 1 : this.num(sim.divideBy);
      const base = divisor === 0 ? 0 : (this.num(sim.follow) * sim.scale) / divisor;
      return base + sim.offset + (sim.noise > 0 ? uniform(this.random, -sim.noise, sim.noise) : 0);
    }
    if (sim !== undefined && 'sum' in sim) return sim.scale * sim.sum.reduce((s, k) => s + this.num(k), 0);
    return this.values.get(p.key) ?? 0;
  }

  private step(dtS: number, atMs: number): void {
    const before = new Map(this.values);
    for (const p of this.order) {
      const override = this.overrides.get(p.key);
      if (override !== undefined) {
        this.values.set(p.key, override);
        continue;
      }
      const sim = p.sim;
      if (sim === undefined || 'constant' in sim) continue;
      const v = this.num(p.key);
      if ('walk' in sim) {
        const { min, max, stepPerS } = sim.walk;
        let next = v + uniform(this.random, -1, 1) * stepPerS * dtS;
        if (next > max) next = max - (next - max);
        if (next < min) next = min + (min - next);
        this.values.set(p.key, Math.min(max, Math.max(min, next)));
      } else if ('integral' in sim) {
        const of = sim.integral.of;
        const mean =
          ((typeof before.get(of) === 'number' ? (before.get(of) as number) : 0) + this.num(of)) / 2;
        this.values.set(p.key, v + (sim.integral.scale * mean * dtS) / PER_S[sim.integral.per]);
      } else if ('flow' in sim) {
        const { baseM3H, nightLeakM3H, nightHours } = sim.flow;
        if (isNight(atMs, nightHours)) {
          // Nobody draws water at night: only the leak flows, steadily, so it never reads zero.
          this.draws.delete(p.key);
          this.values.set(p.key, nightLeakM3H);
        } else {
          // By day, draws of random length (a tap, a flush, a dishwasher), each uniform in
          // [0, 2·base] so the mean is base, on top of the leak: always in [leak, 3·base + leak].
          let draw = this.draws.get(p.key);
          if (draw === undefined || draw.untilMs <= atMs) {
            draw = {
              m3h: uniform(this.random, 0, 2 * baseM3H),
              untilMs: atMs + uniform(this.random, 10_000, 300_000),
            };
            this.draws.set(p.key, draw);
          }
          this.values.set(p.key, nightLeakM3H + draw.m3h);
        }
      } else {
        this.values.set(p.key, this.derived(p));
      }
    }
  }

  /** Bring every model up to the clock's now. Called before each request; cheap when time stood still. */
  advance(): void {
    const now = this.clock.nowMs();
    const elapsed = now - this.lastMs;
    if (elapsed <= 0) return;
    const stepMs = Math.max(STEP_MS, elapsed / MAX_STEPS);
    let t = this.lastMs;
    while (now - t > 1e-9) {
      const dt = Math.min(stepMs, now - t);
      t += dt;
      this.step(dt / 1000, t);
    }
    this.lastMs = now;
    this.encoded = new Map();
  }

  /** The engineering value served for a point right now. */
  valueOf(key: string): Value {
    this.advance();
    const v = this.values.get(key);
    if (v === undefined) throw new RangeError(`profile ${this.profile.id} has no point "${key}"`);
    return v;
  }

  /** Every point's engineering value right now. */
  snapshot(): Record<string, Value> {
    this.advance();
    return Object.fromEntries(this.values);
  }

  private words(p: ModbusPoint): Uint16Array {
    let w = this.encoded.get(p.key);
    if (w === undefined) {
      const v = this.values.get(p.key) ?? 0;
      try {
        w = encodePoint(p, v);
      } catch {
        // A value the type cannot hold (a walk past a u16, say): serve the NaN sentinel or zeros.
        const nan = typeof p.nan === 'number' ? p.nan : p.nan?.[0];
        w =
          nan === undefined
            ? new Uint16Array(pointRegisterCount(p))
            : encodePoint({ ...p, scale: 1, offset: 0 }, nan);
      }
      this.encoded.set(p.key, w);
    }
    return w;
  }

  private bit(p: ModbusPoint): boolean {
    const v = this.values.get(p.key);
    return typeof v === 'number' ? v !== 0 : v !== undefined && v !== '';
  }

  /** Answer one request as the device would. */
  handle(r: ModbusRequest): ModbusResponse {
    this.advance();
    const refuse = (exception: number): ModbusResponse => ({ fc: r.fc, exception });
    switch (r.fc) {
      case 1:
      case 2: {
        const bits: boolean[] = [];
        for (let a = r.address; a < r.address + r.quantity; a++) {
          const s = this.slots[r.fc].get(a);
          if (s === undefined && !this.profile.bus.readableHoles)
            return refuse(ExceptionCode.illegalDataAddress);
          bits.push(s === undefined ? false : this.bit(s.point));
        }
        return { fc: r.fc, bits };
      }
      case 3:
      case 4: {
        const registers: number[] = [];
        for (let a = r.address; a < r.address + r.quantity; a++) {
          const s = this.slots[r.fc].get(a);
          if (s === undefined && !this.profile.bus.readableHoles)
            return refuse(ExceptionCode.illegalDataAddress);
          registers.push(s === undefined ? 0 : (this.words(s.point)[s.word] ?? 0));
        }
        return { fc: r.fc, registers };
      }
      case 5:
      case 15: {
        const values = r.fc === 5 ? [r.value] : r.values;
        const targets: ModbusPoint[] = [];
        for (let i = 0; i < values.length; i++) {
          const s = this.slots[1].get(r.address + i);
          if (s === undefined || !s.point.writable) return refuse(ExceptionCode.illegalDataAddress);
          targets.push(s.point);
        }
        targets.forEach((p, i) => {
          this.store(p, values[i] ? 1 : 0);
        });
        return r.fc === 5
          ? { fc: 5, address: r.address, value: r.value }
          : { fc: 15, address: r.address, quantity: values.length };
      }
      case 6:
      case 16: {
        const values = r.fc === 6 ? [r.value] : r.values;
        const touched = new Map<ModbusPoint, Uint16Array>();
        for (let i = 0; i < values.length; i++) {
          const s = this.slots[3].get(r.address + i);
          if (s === undefined || !s.point.writable) return refuse(ExceptionCode.illegalDataAddress);
          let image = touched.get(s.point);
          if (image === undefined) {
            image = Uint16Array.from(this.words(s.point));
            touched.set(s.point, image);
          }
          image[s.word] = values[i] ?? 0;
        }
        for (const [p, image] of touched) {
          const reading = decodePoint(p, image);
          if (reading.value === null) return refuse(ExceptionCode.illegalDataValue);
          this.store(p, reading.value);
        }
        return r.fc === 6
          ? { fc: 6, address: r.address, value: r.value }
          : { fc: 16, address: r.address, quantity: values.length };
      }
    }
  }

  private store(p: ModbusPoint, value: Value): void {
    this.overrides.set(p.key, value);
    this.values.set(p.key, value);
    this.encoded.delete(p.key);
  }
}
