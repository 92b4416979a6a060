import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldbusPlanError } from './errors.ts';
import {
  allowedHole,
  holeCount,
  type LineCost,
  minUsefulWireMs,
  planCostMs,
  planReads,
  planReadsByCost,
  pointWidth,
  type ReadBlock,
  readCostMs,
} from './read-planner.ts';
import type { PollPoint, ReadLimits } from './types.ts';

const f32 = (key: string, address: number): PollPoint => ({
  key,
  address,
  functionCode: 4,
  type: 'f32',
  wordOrder: 'big',
  poll: 'fast',
});

const pointArb = fc.record({
  key: fc.string({ minLength: 1, maxLength: 4 }),
  address: fc.integer({ min: 0, max: 400 }),
  functionCode: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>,
  type: fc.constantFrom('u16', 'i16', 'u32', 'f32', 'f64', 'u64') as fc.Arbitrary<PollPoint['type']>,
  wordOrder: fc.constant('big' as const),
  poll: fc.constant('fast' as const),
});

const limitsArb: fc.Arbitrary<ReadLimits> = fc.record({
  maxRegistersPerRead: fc.integer({ min: 4, max: 125 }),
  gapFill: fc.integer({ min: 0, max: 20 }),
  readableHoles: fc.boolean(),
});

/** Longest run of registers in the block that no point covers. */
function longestHole(block: ReadBlock): number {
  const covered = new Uint8Array(block.count);
  for (const { point, offset } of block.points) covered.fill(1, offset, offset + pointWidth(point));
  let run = 0;
  let best = 0;
  for (const c of covered) {
    run = c ? 0 : run + 1;
    best = Math.max(best, run);
  }
  return best;
}

/** Fewest blocks by dynamic programming over runs of the address-sorted points (the reference). */
function fewestBlocks(points: PollPoint[], limits: ReadLimits): number {
  let total = 0;
  for (const code of [1, 2, 3, 4]) {
    const ps = points.filter((p) => p.functionCode === code).sort((a, b) => a.address - b.address);
    const max = code <= 2 ? 2000 : limits.maxRegistersPerRead;
    const dp = new Array<number>(ps.length + 1).fill(Number.POSITIVE_INFINITY);
    dp[0] = 0;
    for (let i = 1; i <= ps.length; i++) {
      for (let j = 0; j < i; j++) {
        const run = ps.slice(j, i);
        const start = run[0]!.address;
        let end = start;
        let ok = true;
        for (const p of run) {
          if (p.address - end > allowedHole(limits)) ok = false;
          end = Math.max(end, p.address + pointWidth(p));
        }
        if (ok && end - start <= max) dp[i] = Math.min(dp[i]!, dp[j]! + 1);
      }
    }
    total += dp[ps.length]!;
  }
  return total;
}

describe('planReads', () => {
  it('coalesces an Eastron-style map into one block per run and skips unreadable holes', () => {
    const points = [f32('voltageL1V', 0), f32('voltageL2V', 2), f32('currentL1A', 6), f32('powerW', 52)];
    const tight = planReads(points, { maxRegistersPerRead: 80, gapFill: 0, readableHoles: false });
    expect(tight.map((b) => [b.address, b.count])).toEqual([
      [0, 4],
      [6, 2],
      [52, 2],
    ]);
    const filled = planReads(points, { maxRegistersPerRead: 80, gapFill: 2, readableHoles: true });
    expect(filled.map((b) => [b.address, b.count])).toEqual([
      [0, 8],
      [52, 2],
    ]);
    expect(filled[0]!.points.map((p) => p.offset)).toEqual([0, 2, 6]);
    expect(holeCount(filled[0]!)).toBe(2);
  });

  it('splits at maxRegistersPerRead and keeps function codes apart', () => {
    const points = [
      f32('a', 0),
      f32('b', 2),
      f32('c', 4),
      { ...f32('d', 0), functionCode: 3 as const },
      { ...f32('s', 10), functionCode: 1 as const },
    ];
    const blocks = planReads(points, { maxRegistersPerRead: 4, gapFill: 0, readableHoles: true });
    expect(blocks.map((b) => [b.functionCode, b.address, b.count])).toEqual([
      [1, 10, 1],
      [3, 0, 2],
      [4, 0, 4],
      [4, 4, 2],
    ]);
  });

  it('rejects a point wider than one read, naming the point and the fix', () => {
    const text: PollPoint = { ...f32('serialNumberText', 0), type: 'str', words: 20 };
    expect(() => planReads([text], { maxRegistersPerRead: 10, gapFill: 0, readableHoles: false })).toThrow(
      FieldbusPlanError,
    );
    expect(() => planReads([text], { maxRegistersPerRead: 10, gapFill: 0, readableHoles: false })).toThrow(
      /serialNumberText.*20 registers.*maxRegistersPerRead/,
    );
  });

  it('property: every point is read whole, exactly once, within the limits, in the fewest reads', () => {
    fc.assert(
      fc.property(fc.array(pointArb, { maxLength: 30 }), limitsArb, (points, limits) => {
        const blocks = planReads(points, limits);
        const seen = blocks.flatMap((b) => b.points.map((p) => p.point));
        expect(seen.length).toBe(points.length);
        expect(new Set(seen).size).toBe(points.length);
        for (const b of blocks) {
          const bits = b.functionCode <= 2;
          expect(b.count).toBeLessThanOrEqual(bits ? 2000 : limits.maxRegistersPerRead);
          expect(longestHole(b)).toBeLessThanOrEqual(allowedHole(limits));
          for (const { point, offset } of b.points) {
            expect(point.functionCode).toBe(b.functionCode);
            expect(offset).toBe(point.address - b.address);
            expect(offset + pointWidth(point)).toBeLessThanOrEqual(b.count);
          }
        }
        expect(blocks.length).toBe(fewestBlocks(points, limits));
      }),
    );
  });
});

/** 9600 Bd: 11-bit characters, t3.5 = 4.01 ms, a 25 ms turnaround. */
const line9600: LineCost = { charMs: 11_000 / 9600, perReadMs: 2 * ((3.5 * 11_000) / 9600) + 25 };

const costArb: fc.Arbitrary<LineCost> = fc.record({
  charMs: fc.constantFrom(0, 11_000 / 2400, 11_000 / 9600, 11_000 / 19_200, 11_000 / 115_200),
  perReadMs: fc.double({ min: 0, max: 200, noNaN: true }),
});

/** Every register a point asks for, per function code (for checking the useful wire time). */
function usefulCostOf(blocks: ReadBlock[], cost: LineCost): number {
  let ms = 0;
  for (const b of blocks) {
    const covered = new Uint8Array(b.count);
    for (const { point, offset } of b.points) covered.fill(1, offset, offset + pointWidth(point));
    ms += readCostMs(
      b.functionCode,
      covered.reduce((a, c) => a + c, 0),
      cost,
    );
  }
  return ms;
}

describe('planReadsByCost', () => {
  it('reads through a hole only when that is cheaper than another request at the line speed', () => {
    const limits: ReadLimits = { maxRegistersPerRead: 80, gapFill: 8, readableHoles: true };
    // A 10-register hole costs 23 ms of bytes at 9600 Bd, a second read ~48 ms: read through.
    const near = [f32('a', 0), f32('b', 12)];
    expect(planReadsByCost(near, limits, line9600).map((b) => [b.address, b.count])).toEqual([[0, 14]]);
    // A 38-register hole (an SDM120 between power factor and frequency) costs 87 ms: two reads,
    // although the fixed-gap planner would read through anything up to gapFill only either way.
    const far = [f32('pf', 30), f32('hz', 70)];
    expect(planReadsByCost(far, limits, line9600).map((b) => [b.address, b.count])).toEqual([
      [30, 2],
      [70, 2],
    ]);
    // An 18-register hole (SDM630 200..205 to 224): beyond gapFill 8, but cheaper than a request.
    const mid = [f32('x', 200), f32('y', 202), f32('z', 204), f32('w', 224)];
    expect(planReadsByCost(mid, limits, line9600).map((b) => [b.address, b.count])).toEqual([[200, 26]]);
    expect(planReads(mid, limits)).toHaveLength(2);
    // Slower turnaround makes a request dearer, so more is read through.
    const slow = { ...line9600, perReadMs: line9600.perReadMs + 60 };
    expect(planReadsByCost(far, limits, slow)).toHaveLength(1);
  });

  it('never reads a hole of a device whose holes are not readable, whatever the cost', () => {
    const limits: ReadLimits = { maxRegistersPerRead: 50, gapFill: 0, readableHoles: false };
    const blocks = planReadsByCost([f32('a', 0), f32('b', 3)], limits, { charMs: 0, perReadMs: 1000 });
    expect(blocks.map((b) => [b.address, b.count])).toEqual([
      [0, 2],
      [3, 2],
    ]);
  });

  it('property: every point read whole once, within the limits, never through an unreadable hole, never dearer than fixed gap', () => {
    fc.assert(
      fc.property(fc.array(pointArb, { maxLength: 30 }), limitsArb, costArb, (points, limits, cost) => {
        const blocks = planReadsByCost(points, limits, cost);
        const seen = blocks.flatMap((b) => b.points.map((p) => p.point));
        expect(seen.length).toBe(points.length);
        expect(new Set(seen).size).toBe(points.length);
        for (const b of blocks) {
          expect(b.count).toBeLessThanOrEqual(b.functionCode <= 2 ? 2000 : limits.maxRegistersPerRead);
          if (!limits.readableHoles) expect(longestHole(b)).toBe(0);
          for (const { point, offset } of b.points) {
            expect(point.functionCode).toBe(b.functionCode);
            expect(offset).toBe(point.address - b.address);
            expect(offset + pointWidth(point)).toBeLessThanOrEqual(b.count);
          }
        }
        const fixedGap = planReads(points, limits);
        expect(planCostMs(blocks, cost)).toBeLessThanOrEqual(planCostMs(fixedGap, cost) + 1e-9);
        // The useful-wire bound is below what either plan puts on the line, and below their useful part.
        const bound = minUsefulWireMs(points, limits, cost);
        expect(bound).toBeLessThanOrEqual(planCostMs(blocks, cost) + 1e-9);
        expect(bound).toBeLessThanOrEqual(usefulCostOf(blocks, cost) + 1e-9);
        expect(bound).toBeLessThanOrEqual(usefulCostOf(fixedGap, cost) + 1e-9);
      }),
    );
  });

  it('the useful-wire bound is reached by fewest reads with free holes', () => {
    const limits: ReadLimits = { maxRegistersPerRead: 80, gapFill: 0, readableHoles: true };
    // One read of 0..79 carries both points; the 76-register hole is free in the bound.
    const points = [f32('a', 0), f32('b', 78)];
    expect(minUsefulWireMs(points, limits, line9600)).toBeCloseTo(readCostMs(4, 4, line9600), 9);
    expect(minUsefulWireMs(points, { ...limits, readableHoles: false }, line9600)).toBeCloseTo(
      2 * readCostMs(4, 2, line9600),
      9,
    );
  });
});
