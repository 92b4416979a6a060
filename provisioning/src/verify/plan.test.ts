import { gatewayConfigSchema } from '@brana/firmware';
import { loadCatalogue } from '@brana/hardware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstConflict, gpioLine, planVerify, pulseSequence } from './plan.ts';

// Random intersections: n approaches, a symmetric conflict matrix, optional readbacks, relays.
const intersection = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    pairs: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * n }),
    readbacks: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    relays: fc.integer({ min: 0, max: 3 }),
  }),
);

function configOf(x: { n: number; pairs: [number, number][]; readbacks: boolean[]; relays: number }) {
  const ids = Array.from({ length: x.n }, (_, i) => `a${i}`);
  const conflicts: Record<string, string[]> = Object.fromEntries(ids.map((id) => [id, [] as string[]]));
  for (const [i, j] of x.pairs) {
    if (i === j) continue;
    if (!conflicts[ids[i]!]!.includes(ids[j]!)) conflicts[ids[i]!]!.push(ids[j]!);
    if (!conflicts[ids[j]!]!.includes(ids[i]!)) conflicts[ids[j]!]!.push(ids[i]!);
  }
  return gatewayConfigSchema.parse({
    name: 'x',
    relays: Array.from({ length: x.relays }, (_, i) => ({ name: `r${i}`, line: `relay.${i}` })),
    preemption: {
      intersectionId: 1,
      approaches: ids.map((id, i) => ({
        id,
        number: i,
        output: `out.${id}`,
        ...(x.readbacks[i] ? { readback: `rb.${id}` } : {}),
      })),
      conflicts,
      heartbeat: { output: 'heartbeat' },
    },
  });
}

describe('verify plan', () => {
  it('pulses every output exactly once, one at a time: never two conflicting approaches, all off at the end', () => {
    const catalogue = loadCatalogue();
    fc.assert(
      fc.property(intersection, (x) => {
        const config = configOf(x);
        const plan = planVerify(config, catalogue);
        expect(plan.outputs).toHaveLength(x.n + x.relays);
        const events = pulseSequence(plan.outputs);
        const byLine = new Map(
          plan.outputs.filter((o) => o.role === 'approach').map((o) => [o.line, o.name]),
        );
        expect(firstConflict(events, byLine, config.preemption!.conflicts)).toBeUndefined();
        const on = new Set<string>();
        for (const e of events) {
          if (e.on) {
            expect(on.size).toBe(0);
            on.add(e.output);
          } else on.delete(e.output);
        }
        expect(on.size).toBe(0);
        // Readbacks go with their approach.
        for (const o of plan.outputs.filter((p) => p.role === 'approach')) {
          expect(o.readback).toBe(x.readbacks[Number(o.name.slice(1))] ? `rb.${o.name}` : undefined);
        }
      }),
    );
  });

  it('finds the first moment two conflicting approaches would be on together (the guard can fail)', () => {
    const conflicts = { north: ['east'], east: ['north'], south: [] };
    const byLine = new Map([
      ['o.n', 'north'],
      ['o.e', 'east'],
      ['o.s', 'south'],
    ]);
    expect(
      firstConflict(
        [
          { output: 'o.n', on: true },
          { output: 'o.s', on: true },
          { output: 'o.e', on: true },
        ],
        byLine,
        conflicts,
      ),
    ).toEqual({ index: 2, a: 'east', b: 'north' });
    expect(
      firstConflict(
        [
          { output: 'o.n', on: true },
          { output: 'o.n', on: false },
          { output: 'o.e', on: true },
        ],
        byLine,
        conflicts,
      ),
    ).toBeUndefined();
  });

  it('maps config line names to BCM offsets on sysfs and keeps wire names on the bench', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 57 }),
        fc.constantFrom('GPIO', 'gpio', 'BCM', ''),
        (n, prefix) => {
          expect(gpioLine('sysfs', `${prefix}${n}`, 'x')).toBe(n);
          expect(gpioLine('bench', `${prefix}${n}`, 'x')).toBe(`${prefix}${n}`);
        },
      ),
    );
    expect(() => gpioLine('sysfs', 'GPIO58', 'relays[0]')).toThrow(
      /relays\[0\]: line "GPIO58" is not a GPIO line.*Fix: name lines by their BCM number/,
    );
    expect(() => gpioLine('sysfs', 'sos.button', 'alarm sos')).toThrow(/not a GPIO line/);
  });

  it('asks each Modbus device for its first point, or the first of the points it lists', () => {
    const catalogue = loadCatalogue();
    const config = gatewayConfigSchema.parse({
      name: 'x',
      buses: [{ name: 'rs485', type: 'rtu', path: '/dev/ttyUSB0' }],
      devices: [
        { name: 'main', bus: 'rs485', unit: 1, profile: 'eastron-sdm630' },
        { name: 'co2', bus: 'rs485', unit: 2, profile: 'senseair-s8', points: ['co2Ppm'] },
      ],
      alarms: [{ name: 'sos', line: 'GPIO5', activeLevel: 0 }],
    });
    const plan = planVerify(config, catalogue);
    const sdm630 = catalogue.get('eastron-sdm630');
    expect(plan.devices[0]!.point?.key).toBe(sdm630?.kind === 'modbus' ? sdm630.points[0]!.key : '');
    expect(plan.devices[1]!.point?.key).toBe('co2Ppm');
    expect(plan.inputs).toEqual([{ role: 'alarm', name: 'sos', line: 'GPIO5', activeLow: true }]);
  });
});
