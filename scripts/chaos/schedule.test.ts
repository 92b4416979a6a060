import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fault, faultBusyMs, faultTarget, planFaults, type ScheduleOptions } from './schedule.ts';

const targets = {
  processes: ['fleet', 'intersection/agent', 'intersection/rt', 'school/agent', 'school/fieldbus'],
  disks: ['intersection', 'school'],
  clocks: ['intersection', 'school'],
  flood: true,
};

const options = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  startMs: fc.integer({ min: 0, max: 30_000 }),
  lengthMs: fc.integer({ min: 10_000, max: 15 * 60_000 }),
  perMinute: fc.double({ min: 0.5, max: 30, noNaN: true }),
});

function plan(o: { seed: number; startMs: number; lengthMs: number; perMinute: number }) {
  const so: ScheduleOptions = {
    seed: o.seed,
    startMs: o.startMs,
    endMs: o.startMs + o.lengthMs,
    perMinute: o.perMinute,
    targets,
    floodPerS: 1000,
  };
  return { so, faults: planFaults(so) };
}

describe('planFaults', () => {
  it('is the same for the same seed, sorted, and inside the run', () => {
    fc.assert(
      fc.property(options, (o) => {
        const { so, faults } = plan(o);
        expect(planFaults(so)).toEqual(faults);
        for (let i = 1; i < faults.length; i++) expect(faults[i]!.atMs).toBeGreaterThan(faults[i - 1]!.atMs);
        for (const f of faults) {
          expect(f.atMs).toBeGreaterThan(so.startMs);
          expect(f.atMs).toBeLessThan(so.endMs);
          // A timed fault is over a second before the end, when everything is restored.
          if ('forMs' in f) {
            expect(f.forMs).toBeGreaterThanOrEqual(1000);
            expect(f.atMs + f.forMs).toBeLessThanOrEqual(so.endMs - 1000);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('never puts two faults on one target at once, and only on the targets given', () => {
    fc.assert(
      fc.property(options, (o) => {
        const { faults } = plan(o);
        const busy = new Map<string, number>();
        for (const f of faults) {
          const t = faultTarget(f);
          expect(f.atMs).toBeGreaterThanOrEqual(busy.get(t) ?? 0);
          busy.set(t, f.atMs + faultBusyMs(f));
          if (f.kind === 'kill') expect(targets.processes).toContain(f.target);
          if (f.kind === 'disk') expect(targets.disks).toContain(f.site);
          if (f.kind === 'clock') expect(targets.clocks).toContain(f.site);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives about the asked rate, with every kind of fault in a long run', () => {
    const { faults } = plan({ seed: 7, startMs: 20_000, lengthMs: 10 * 60_000, perMinute: 24 });
    expect(faults.length).toBeGreaterThanOrEqual(200);
    expect(faults.length).toBeLessThanOrEqual(280);
    const kinds = new Set(faults.map((f: Fault) => f.kind));
    expect([...kinds].sort()).toEqual(['clock', 'disk', 'flood', 'kill', 'net', 'world-clock']);
  });

  it('leaves out what the machine cannot do', () => {
    const faults = planFaults({
      seed: 3,
      startMs: 0,
      endMs: 5 * 60_000,
      perMinute: 30,
      targets: { processes: ['fleet'], disks: [], clocks: [], flood: false },
      floodPerS: 1000,
    });
    expect(faults.length).toBeGreaterThan(20);
    for (const f of faults) expect(['kill', 'net', 'world-clock']).toContain(f.kind);
  });
});
