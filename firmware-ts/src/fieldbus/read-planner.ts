// The read planner: turns the points due now into Modbus reads. Points are grouped per function
// code (a read is per unit and function code; the caller plans one device at a time).
//
// Two planners. `planReads` is the fixed-gap one: it coalesces left to right through holes of at
// most the profile's `gapFill` (greedy extension is optimal for that rule: with points sorted by
// start address, taking every point that still fits never makes a later block start earlier).
// `planReadsByCost` is what the engine uses: it reads through a readable hole only when the hole's
// bytes cost less line time than one more transaction (request and response headers, 2·t3.5 and
// the device's turnaround), at the line's baud, by dynamic programming over runs of the sorted
// points. `minUsefulWireMs` is the wire limit no plan can beat: fewest reads, holes free.
import { registerCount } from '@brana/hardware';
import { FieldbusPlanError } from './errors.ts';
import type { FunctionCode, PollPoint, ReadLimits } from './types.ts';

/** Protocol ceilings, Modbus Application Protocol v1.1b3 §6.1–6.4. */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;

export interface PlannedPoint<P extends PollPoint = PollPoint> {
  point: P;
  /** Offset of the point's first register (or bit) inside the block. */
  offset: number;
}

export interface ReadBlock<P extends PollPoint = PollPoint> {
  functionCode: FunctionCode;
  address: number;
  /** Registers (FC03/04) or bits (FC01/02) to read. */
  count: number;
  points: PlannedPoint<P>[];
}

const isBitFunction = (fc: FunctionCode) => fc === 1 || fc === 2;

/** Registers (or bits, for FC01/02) a point occupies. */
export function pointWidth(point: PollPoint): number {
  return isBitFunction(point.functionCode) ? 1 : registerCount(point.type, point.words);
}

/** Largest hole a block may read through under these limits. */
export function allowedHole(limits: ReadLimits): number {
  return limits.readableHoles ? limits.gapFill : 0;
}

/** Largest block one read of `fc` may ask for under these limits. */
export function maxReadCount(fc: FunctionCode, limits: ReadLimits): number {
  return isBitFunction(fc) ? MAX_READ_BITS : Math.min(MAX_READ_REGISTERS, limits.maxRegistersPerRead);
}

/** Points grouped per function code (ascending), each group sorted by address, checked to fit a read. */
function groupsOf<P extends PollPoint>(points: readonly P[], limits: ReadLimits): [FunctionCode, P[]][] {
  const byFc = new Map<FunctionCode, P[]>();
  for (const p of points) {
    const list = byFc.get(p.functionCode);
    if (list) list.push(p);
    else byFc.set(p.functionCode, [p]);
  }
  return [...byFc.keys()]
    .sort((a, b) => a - b)
    .map((fc) => {
      const maxCount = maxReadCount(fc, limits);
      const sorted = [...byFc.get(fc)!].sort(
        (a, b) => a.address - b.address || pointWidth(b) - pointWidth(a),
      );
      for (const point of sorted) {
        const width = pointWidth(point);
        if (width > maxCount) {
          throw new FieldbusPlanError(
            point.key,
            `needs ${width} registers but the device reads at most ${maxCount} at once`,
            'shorten the point (words) or raise bus.maxRegistersPerRead in the device profile',
          );
        }
        if (point.address + width > 0x10000) {
          throw new FieldbusPlanError(
            point.key,
            `runs past the last register (address ${point.address} + ${width} > 65536)`,
            'correct the address in the device profile',
          );
        }
      }
      return [fc, sorted];
    });
}

/**
 * Plans reads for `points` of one device with the fixed `gapFill` rule. Blocks come out ordered by
 * function code, then address. Throws `FieldbusPlanError` for a point that cannot fit in one read.
 */
export function planReads<P extends PollPoint>(points: readonly P[], limits: ReadLimits): ReadBlock<P>[] {
  const blocks: ReadBlock<P>[] = [];
  for (const [fc, sorted] of groupsOf(points, limits)) {
    const maxCount = maxReadCount(fc, limits);
    const hole = allowedHole(limits);
    let current: ReadBlock<P> | undefined;
    let end = 0; // one past the last register covered by the current block
    for (const point of sorted) {
      const width = pointWidth(point);
      const pointEnd = point.address + width;
      const fits =
        current !== undefined &&
        point.address - end <= hole &&
        Math.max(end, pointEnd) - current.address <= maxCount;
      if (current && fits) {
        current.points.push({ point, offset: point.address - current.address });
        end = Math.max(end, pointEnd);
        current.count = end - current.address;
      } else {
        current = { functionCode: fc, address: point.address, count: width, points: [{ point, offset: 0 }] };
        end = pointEnd;
        blocks.push(current);
      }
    }
  }
  return blocks;
}

/**
 * What a read costs on the line, for weighing a hole read through against one more transaction.
 * RTU: `charMs` = one 11-bit character at the baud, `perReadMs` = 2·t3.5 + the device's
 * turnaround (DESIGN.md: T = (13 + 2N)·t_char + 2·t3.5 + turnaround). With `charMs` 0 (a native
 * TCP device) a readable hole is always worth reading through.
 */
export interface LineCost {
  charMs: number;
  perReadMs: number;
}

/** Data bytes of a response carrying `count` registers (2 each) or bits (8 a byte). */
export function responseDataBytes(fc: FunctionCode, count: number): number {
  return isBitFunction(fc) ? Math.ceil(count / 8) : 2 * count;
}

/**
 * Wire time of one read of `count` registers (or bits): 8-byte request, 5 + data byte response,
 * plus the fixed per-read time.
 */
export function readCostMs(fc: FunctionCode, count: number, cost: LineCost): number {
  return (13 + responseDataBytes(fc, count)) * cost.charMs + cost.perReadMs;
}

/** Summed `readCostMs` of a plan. */
export function planCostMs(blocks: readonly ReadBlock[], cost: LineCost): number {
  let ms = 0;
  for (const b of blocks) ms += readCostMs(b.functionCode, b.count, cost);
  return ms;
}

/**
 * Cheapest partition of each function code's sorted points into runs, each run one read. A run is
 * feasible when it spans at most the read limit and, without `readableHoles`, has no hole at all.
 * `runCostMs(fc, count, covered)`: the cost of one read spanning `count` with `covered` of them
 * asked for. O(n²) per function code.
 */
function cheapestRuns<P extends PollPoint>(
  points: readonly P[],
  limits: ReadLimits,
  runCostMs: (fc: FunctionCode, count: number, covered: number) => number,
): { blocks: ReadBlock<P>[]; costMs: number } {
  const blocks: ReadBlock<P>[] = [];
  let costMs = 0;
  for (const [fc, sorted] of groupsOf(points, limits)) {
    const n = sorted.length;
    const maxCount = maxReadCount(fc, limits);
    // best[i]: cheapest cost of reading sorted[0..i); from[i]: where the last run of that starts.
    const best = new Array<number>(n + 1).fill(Number.POSITIVE_INFINITY);
    const from = new Array<number>(n + 1).fill(0);
    best[0] = 0;
    for (let j = 0; j < n; j++) {
      const start = sorted[j]!.address;
      let end = start;
      let covered = 0;
      for (let i = j; i < n; i++) {
        const p = sorted[i]!;
        const pEnd = p.address + pointWidth(p);
        if (p.address > end && !limits.readableHoles) break;
        if (pEnd - start > maxCount) break;
        covered += Math.max(0, pEnd - Math.max(end, p.address));
        end = Math.max(end, pEnd);
        const c = best[j]! + runCostMs(fc, end - start, covered);
        if (c < best[i + 1]!) {
          best[i + 1] = c;
          from[i + 1] = j;
        }
      }
    }
    costMs += best[n]!;
    const runs: [number, number][] = [];
    for (let i = n; i > 0; i = from[i]!) runs.push([from[i]!, i]);
    for (const [j, i] of runs.reverse()) {
      const address = sorted[j]!.address;
      let end = address;
      const planned: PlannedPoint<P>[] = [];
      for (const point of sorted.slice(j, i)) {
        planned.push({ point, offset: point.address - address });
        end = Math.max(end, point.address + pointWidth(point));
      }
      blocks.push({ functionCode: fc, address, count: end - address, points: planned });
    }
  }
  return { blocks, costMs };
}

/**
 * Plans reads for `points` of one device at the least line time under `cost`: a readable hole is
 * read through only when its bytes cost less than a separate read (at 9600 Bd and a 25 ms
 * turnaround, up to ~20 registers). `gapFill` is not used; the limits are the device's own:
 * `maxRegistersPerRead` and, without `readableHoles`, no hole at all. Never costs more than
 * `planReads` under the same `cost`. Throws `FieldbusPlanError` for a point wider than one read.
 */
export function planReadsByCost<P extends PollPoint>(
  points: readonly P[],
  limits: ReadLimits,
  cost: LineCost,
): ReadBlock<P>[] {
  return cheapestRuns(points, limits, (fc, count) => readCostMs(fc, count, cost)).blocks;
}

/**
 * The wire limit of reading `points` once, whatever the planner: the least Σ T over every feasible
 * plan (the device's read limit, no hole where holes are not readable) with N counting only the
 * registers some point asks for, i.e. holes free. No plan's line time can be below it.
 */
export function minUsefulWireMs(points: readonly PollPoint[], limits: ReadLimits, cost: LineCost): number {
  return cheapestRuns(points, limits, (fc, _count, covered) => readCostMs(fc, covered, cost)).costMs;
}

/** Registers (or bits) read that no point asked for: the price of coalescing. */
export function holeCount(block: ReadBlock): number {
  const covered = new Uint8Array(block.count);
  for (const { point, offset } of block.points) covered.fill(1, offset, offset + pointWidth(point));
  let holes = 0;
  for (const c of covered) if (c === 0) holes++;
  return holes;
}
