import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isException } from '../../modbus/index.ts';
import { loadCatalogue, simValueRange } from '../../profiles/index.ts';
import { decodePoint } from '../../registers/index.ts';
import { ManualClock } from './clock.ts';
import { testMeterProfile, testWaterProfile } from './fixtures.ts';
import { RegisterBank } from './register-bank.ts';

const HOUR = 3_600_000;

function read(bank: RegisterBank, fc: 3 | 4, address: number, quantity: number): number[] {
  const r = bank.handle({ fc, address, quantity });
  if (isException(r) || !('registers' in r)) throw new Error(`exception ${JSON.stringify(r)}`);
  return r.registers;
}

describe('RegisterBank', () => {
  it('serves every point so that the poller decoder reads back the served value', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 10));
    const profile = testMeterProfile();
    const bank = new RegisterBank(profile, { clock });
    clock.advance(30_000);
    for (const p of profile.points) {
      if (p.functionCode === 1 || p.functionCode === 2) continue;
      const regs = read(bank, p.functionCode, p.address, p.type === 'u32' || p.type === 'f32' ? 2 : 1);
      const got = decodePoint(p, regs).value as number;
      expect(got).toBeCloseTo(bank.valueOf(p.key) as number, 2);
    }
  });

  it('keeps walks in range, energy non-decreasing, and current = power / voltage', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 600_000 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (steps, seed) => {
          const clock = new ManualClock(0);
          const bank = new RegisterBank(testMeterProfile(), { clock, seed });
          let lastEnergy = bank.valueOf('energyImportKWh') as number;
          for (const dt of steps) {
            clock.advance(dt);
            const s = bank.snapshot() as Record<string, number>;
            expect(s.powerW).toBeGreaterThanOrEqual(500);
            expect(s.powerW).toBeLessThanOrEqual(3000);
            expect(s.voltageL1V).toBeGreaterThanOrEqual(225);
            expect(s.energyImportKWh).toBeGreaterThanOrEqual(lastEnergy);
            expect(s.currentL1A).toBeCloseTo((s.powerW ?? 0) / (s.voltageL1V ?? 1), 6);
            lastEnergy = s.energyImportKWh ?? 0;
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('integrates energy from power: an hour at 500-3000 W adds 0.5-3 kWh', () => {
    const clock = new ManualClock(0);
    const bank = new RegisterBank(testMeterProfile(), { clock });
    clock.advance(HOUR);
    const kWh = bank.valueOf('energyImportKWh') as number;
    expect(kWh).toBeGreaterThan(0.5);
    expect(kWh).toBeLessThan(3);
  });

  it('water flow: exactly the leak at night (never zero), draws within [leak, 3·base + leak] by day', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.integer({ min: 1000, max: 900_000 }), { minLength: 1, maxLength: 40 }),
        (seed, steps) => {
          const clock = new ManualClock(new Date(2026, 0, 5, 0, 0).getTime());
          const bank = new RegisterBank(testWaterProfile(), { clock, seed });
          for (const dt of steps) {
            clock.advance(dt);
            const flow = bank.valueOf('flowM3H') as number;
            const hour = new Date(clock.nowMs()).getHours();
            if (hour < 5) expect(flow).toBe(0.05);
            else {
              expect(flow).toBeGreaterThanOrEqual(0.05);
              expect(flow).toBeLessThanOrEqual(3 * 1.5 + 0.05);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
    const clock = new ManualClock(new Date(2026, 0, 5, 12, 0).getTime());
    const bank = new RegisterBank(testWaterProfile(), { clock });
    const day: number[] = [];
    for (let i = 0; i < 600; i++) {
      clock.advance(60_000);
      day.push(bank.valueOf('flowM3H') as number);
    }
    // Ten hours of day: the mean draw is near base (1.5 m³/h).
    const mean = day.slice(0, 290).reduce((s, v) => s + v, 0) / 290;
    expect(mean).toBeGreaterThan(1);
    expect(mean).toBeLessThan(2.1);
  });

  it('serves every catalogue profile: each point within its sim value range', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 10));
    for (const profile of loadCatalogue().values()) {
      if (profile.kind !== 'modbus') continue;
      const bank = new RegisterBank(profile, { clock });
      for (let i = 0; i < 5; i++) {
        clock.advance(3_600_000);
        for (const p of profile.points) {
          const r = simValueRange(p);
          const v = bank.valueOf(p.key);
          if (r === undefined || typeof v !== 'number') continue;
          expect(v, `${profile.id} ${p.key}`).toBeGreaterThanOrEqual(r[0] - 1e-9);
          expect(v, `${profile.id} ${p.key}`).toBeLessThanOrEqual(r[1] + 1e-9);
        }
      }
    }
  });

  it('stores writes to writable holding registers and coils; refuses others with exception 2', () => {
    const bank = new RegisterBank(testMeterProfile(), { clock: new ManualClock(0) });
    // demandPeriodMin is f32 at holding 2: 30.0 = 0x41F0 0x0000
    expect(bank.handle({ fc: 16, address: 2, values: [0x41f0, 0] })).toEqual({
      fc: 16,
      address: 2,
      quantity: 2,
    });
    expect(bank.valueOf('demandPeriodMin')).toBe(30);
    expect(read(bank, 3, 2, 2)).toEqual([0x41f0, 0]);
    expect(bank.handle({ fc: 5, address: 0, value: true })).toEqual({ fc: 5, address: 0, value: true });
    expect(bank.handle({ fc: 1, address: 0, quantity: 1 })).toEqual({ fc: 1, bits: [true] });
    expect(bank.handle({ fc: 2, address: 0, quantity: 1 })).toEqual({ fc: 2, bits: [true] });
    expect(bank.handle({ fc: 6, address: 0xfc00, value: 1 })).toEqual({ fc: 6, exception: 2 });
    expect(bank.handle({ fc: 4, address: 2, quantity: 2 })).toEqual({ fc: 4, exception: 2 });
  });
});
