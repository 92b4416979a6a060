import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldbusPlanError } from './errors.ts';
import { allowedHole, holeCount, planReads, pointWidth, type ReadBlock } from './read-planner.ts';
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
