// One test walks the whole catalogue (STYLE point 2): every profile file loads, validates, keeps its
// invariants, and every Modbus point survives the trip through the simulator's encoder and the
// poller's decoder.
import { describe, expect, it } from 'vitest';
import { ManualClock, RegisterBank } from '../bench/index.ts';
import { decodeResponse, encodeResponse, isException, type ModbusRequest } from '../modbus/index.ts';
import { decodePoint, encodePoint, registerCount } from '../registers/index.ts';
import { simValueRange } from './invariants.ts';
import { checkCatalogue, DEFAULT_PROFILES_DIR, listProfileFiles, loadProfileFile } from './loader.ts';
import type { DeviceProfile, ModbusPoint, ModbusProfile } from './types.ts';

const check = checkCatalogue(DEFAULT_PROFILES_DIR);
const profiles = [...check.profiles.values()];
const modbus = profiles.filter((p): p is ModbusProfile => p.kind === 'modbus');

/** Integer registers quantise to the scale; float32 keeps ~7 significant digits. */
function codecTolerance(pt: ModbusPoint, v: number): number {
  if (pt.type === 'f32') return Math.max(Math.abs(v) * 2 ** -23, 1e-6);
  if (pt.type === 'f64') return 1e-9;
  return pt.scale / 2 + 1e-9;
}

describe('catalogue: every profile file', () => {
  it('loads without errors', () => {
    expect(check.errors.map((e) => e.describeAll())).toEqual([]);
  });

  it('holds the device families the platform needs', () => {
    const ids = [...check.profiles.keys()];
    for (const id of [
      'eastron-sdm120',
      'eastron-sdm630',
      'carlo-gavazzi-em24',
      'carlo-gavazzi-em340',
      'xy-md02',
      'senseair-s8',
      'tuf-2000m',
      's0-electricity-1000',
      's0-water-10l',
      'optical-priority-detector',
      'priority-radio-receiver',
    ]) {
      expect(ids).toContain(id);
    }
    const kinds = new Set(profiles.map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['modbus', 'optical-detector', 's0', 'serial-radio']);
  });

  it('every file in the tree is in the catalogue (nothing skipped silently)', () => {
    expect(listProfileFiles(DEFAULT_PROFILES_DIR)).toHaveLength(check.profiles.size);
  });

  it('names the source document it came from', () => {
    for (const p of profiles) expect(p.docs.length, p.id).toBeGreaterThan(10);
  });

  it('the copy-me template is a valid profile too', () => {
    const t = loadProfileFile(`${DEFAULT_PROFILES_DIR}/_template.yaml`) as DeviceProfile;
    expect(t.kind).toBe('modbus');
  });
});

describe.each(modbus.map((p) => [p.id, p] as const))('catalogue: %s', (_id, profile) => {
  it('every point fits one read and the address space', () => {
    for (const pt of profile.points) {
      const n = registerCount(pt.type, pt.words);
      expect(n).toBeLessThanOrEqual(profile.bus.maxRegistersPerRead);
      expect(pt.address + n).toBeLessThanOrEqual(0x10000);
    }
  });

  it('every point round-trips: sim-range value → encodePoint → decodePoint → same value, quality good', () => {
    for (const pt of profile.points) {
      const sim = pt.sim;
      const values: (number | string)[] = [];
      if (pt.type === 'str') values.push(sim && 'constant' in sim ? sim.constant : 'BRANA');
      else {
        const range = simValueRange(pt);
        expect(range, `${pt.key} has no value range`).toBeDefined();
        const [lo, hi] = range!;
        values.push(lo, hi, lo + (hi - lo) / 3);
      }
      for (const v of values) {
        const regs = encodePoint(pt, v);
        expect(regs.length).toBe(registerCount(pt.type, pt.words));
        const back = decodePoint(pt, regs);
        expect(back.quality, `${pt.key} = ${v}`).toBe('good');
        if (typeof v === 'string') expect(back.value).toBe(v);
        else {
          expect(Math.abs((back.value as number) - v), `${pt.key} = ${v}`).toBeLessThanOrEqual(
            codecTolerance(pt, v),
          );
        }
      }
    }
  });

  it('a NaN sentinel, where declared, reads as bad', () => {
    for (const pt of profile.points.filter((p) => p.nan !== undefined)) {
      const sentinel = typeof pt.nan === 'number' ? pt.nan : pt.nan![0]!;
      const regs = encodePoint({ type: pt.type, wordOrder: pt.wordOrder }, sentinel);
      expect(decodePoint(pt, regs)).toMatchObject({ value: null, quality: 'bad' });
    }
  });
});

// The simulator's encoder is the RegisterBank (what a simulated device puts in its registers); the
// poller's decoder is decodePoint over the registers a read returns (as fieldbus does). Each point is
// read with its own function code, through the PDU codec both ends of a real line use, at several
// simulated hours, and must decode to the value the simulator says it serves.
describe('catalogue through the bench simulator', () => {
  it('has Modbus profiles to serve', () => {
    expect(modbus.length).toBeGreaterThanOrEqual(7);
  });

  it.each(modbus.map((p) => [p.id, p] as const))(
    '%s: every point read from the RegisterBank decodes to the served value',
    (_id, profile) => {
      const clock = new ManualClock(Date.UTC(2026, 0, 5, 3));
      const bank = new RegisterBank(profile, { clock, seed: 5 });
      for (let hour = 0; hour < 4; hour++) {
        clock.advance(5 * 3_600_000);
        for (const pt of profile.points) {
          const served = bank.valueOf(pt.key);
          const quantity = pt.functionCode <= 2 ? 1 : registerCount(pt.type, pt.words);
          const request = { fc: pt.functionCode, address: pt.address, quantity } as ModbusRequest;
          const onTheWire = decodeResponse(encodeResponse(bank.handle(request)), quantity);
          expect(isException(onTheWire), `${pt.key} answered ${JSON.stringify(onTheWire)}`).toBe(false);
          if ('bits' in onTheWire) {
            expect(onTheWire.bits[0], pt.key).toBe(served !== 0);
            continue;
          }
          if (!('registers' in onTheWire)) throw new Error(`${pt.key}: no registers in the answer`);
          const back = decodePoint(pt, onTheWire.registers);
          expect(back.quality, `${pt.key} = ${served}`).toBe('good');
          if (typeof served === 'string') expect(back.value).toBe(served);
          else
            expect(Math.abs((back.value as number) - served), `${pt.key} = ${served}`).toBeLessThanOrEqual(
              codecTolerance(pt, served),
            );
        }
      }
    },
  );
});
