// The read planner: turns the points due now into as few Modbus reads as the device allows.
// Points are grouped per function code (a read is per unit and function code; the caller plans
// one device at a time) and coalesced left to right. Greedy extension is optimal here: with
// points sorted by start address, taking every point that still fits never makes a later
// block start earlier, so no other grouping needs fewer reads.
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

/**
 * Plans reads for `points` of one device. Blocks come out ordered by function code, then address.
 * Throws `FieldbusPlanError` for a point that cannot fit in one read.
 */
export function planReads<P extends PollPoint>(points: readonly P[], limits: ReadLimits): ReadBlock<P>[] {
  const byFc = new Map<FunctionCode, P[]>();
  for (const p of points) {
    const list = byFc.get(p.functionCode);
    if (list) list.push(p);
    else byFc.set(p.functionCode, [p]);
  }
  const blocks: ReadBlock<P>[] = [];
  for (const fc of [...byFc.keys()].sort((a, b) => a - b)) {
    const bits = isBitFunction(fc);
    const maxCount = bits ? MAX_READ_BITS : Math.min(MAX_READ_REGISTERS, limits.maxRegistersPerRead);
    const hole = allowedHole(limits);
    const sorted = [...byFc.get(fc)!].sort((a, b) => a.address - b.address || pointWidth(b) - pointWidth(a));
    let current: ReadBlock<P> | undefined;
    let end = 0; // one past the last register covered by the current block
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

/** Registers (or bits) read that no point asked for: the price of coalescing. */
export function holeCount(block: ReadBlock): number {
  const covered = new Uint8Array(block.count);
  for (const { point, offset } of block.points) covered.fill(1, offset, offset + pointWidth(point));
  let holes = 0;
  for (const c of covered) if (c === 0) holes++;
  return holes;
}
