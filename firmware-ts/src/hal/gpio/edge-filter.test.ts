import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.ts';
import type { EdgeKind, Level } from './digital.ts';
import { EdgeFilter } from './edge-filter.ts';

type Raw = { level: Level; atMs: number };
type Out = { level: Level; atMs: number };

/**
 * Reference model: a change to a level other than the reported one is reported, stamped with its
 * start, when no other change follows within the window (a change exactly at the window's end
 * counts as a bounce). Changes are raw transitions; repeats of the same raw level are not changes.
 */
function reference(initial: Level, raws: Raw[], windowMs: number, horizonMs: number): Out[] {
  const changes: Raw[] = [];
  let raw = initial;
  for (const r of raws) {
    if (r.level !== raw) {
      changes.push(r);
      raw = r.level;
    }
  }
  const out: Out[] = [];
  let reported = initial;
  changes.forEach((c, i) => {
    if (c.level === reported) return;
    const next = changes[i + 1];
    const holds =
      windowMs === 0
        ? true
        : next === undefined
          ? c.atMs + windowMs <= horizonMs
          : next.atMs > c.atMs + windowMs;
    if (holds) {
      out.push({ level: c.level, atMs: c.atMs });
      reported = c.level;
    }
  });
  return out;
}

const rawsArb = fc
  .array(fc.record({ level: fc.constantFrom<Level>(0, 1), gapMs: fc.integer({ min: 0, max: 30 }) }), {
    maxLength: 40,
  })
  .map((xs) => {
    let t = 0;
    return xs.map((x) => {
      t += x.gapMs;
      return { level: x.level, atMs: t };
    });
  });

function run(initial: Level, raws: Raw[], debounceMs: number, edge: EdgeKind, activeLow: boolean) {
  const clock = new VirtualClock();
  const physicalInitial = (activeLow ? initial ^ 1 : initial) as Level;
  const filter = new EdgeFilter(clock, 'test', physicalInitial, { debounceMs, edge, activeLow });
  const out: Out[] = [];
  filter.onEdge((level, atNs) => out.push({ level, atMs: Number(atNs / 1_000_000n) }));
  // Raw edges are scheduled first, so at equal times they run before the debounce timer.
  for (const r of raws) {
    const physical = (activeLow ? r.level ^ 1 : r.level) as Level;
    clock.setTimeout(() => filter.raw(physical, clock.monotonicNs()), r.atMs);
  }
  const horizonMs = (raws.at(-1)?.atMs ?? 0) + 100;
  clock.advance(horizonMs);
  return { out, horizonMs, level: filter.level() };
}

describe('EdgeFilter', () => {
  it('matches the reference debounce model for any raw edge sequence, window, edge kind and polarity', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Level>(0, 1),
        rawsArb,
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom<EdgeKind>('rising', 'falling', 'both'),
        fc.boolean(),
        (initial, raws, debounceMs, edge, activeLow) => {
          const { out, horizonMs, level } = run(initial, raws, debounceMs, edge, activeLow);
          const all = reference(initial, raws, debounceMs, horizonMs);
          const want = all.filter((e) => edge === 'both' || (edge === 'rising') === (e.level === 1));
          expect(out).toEqual(want);
          expect(level).toBe(all.at(-1)?.level ?? initial);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("with edge 'both' the reported levels alternate and start away from the initial level", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Level>(0, 1),
        rawsArb,
        fc.integer({ min: 0, max: 40 }),
        (initial, raws, w) => {
          const { out } = run(initial, raws, w, 'both', false);
          let prev = initial;
          for (const e of out) {
            expect(e.level).not.toBe(prev);
            prev = e.level;
          }
        },
      ),
    );
  });

  it('every reported change held for at least the window in the raw signal', () => {
    fc.assert(
      fc.property(rawsArb, fc.integer({ min: 1, max: 40 }), (raws, w) => {
        const { out } = run(0, raws, w, 'both', false);
        for (const e of out) {
          const interrupting = raws.find(
            (r) => r.atMs > e.atMs && r.atMs <= e.atMs + w && r.level !== e.level,
          );
          expect(interrupting).toBeUndefined();
        }
      }),
    );
  });
});
