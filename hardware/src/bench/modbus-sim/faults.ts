// Faults a simulated device shows on demand: per request with a probability, or once.

import type { Random } from '../sim/random.ts';

export const FAULT_KINDS = ['timeout', 'badCrc', 'exception', 'partial', 'delay', 'close'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  /**
   * timeout: no answer; badCrc: answer with a corrupted CRC (RTU only); exception: answer with
   * `code`; partial: answer with a truncated frame (RTU only); delay: answer `delayMs` late.
   */
  kind: FaultKind;
  /** Chance per request, 0-1. Default 1. */
  probability?: number;
  /** Exception code for `exception` (1-4, 6). Default 4, server device failure. */
  code?: number;
  /** Extra delay for `delay`, ms. Default 500. */
  delayMs?: number;
}

/** Chooses the fault (if any) for each request: pending one-shots first, then the standing rules. */
export class FaultPlan {
  private readonly oneShots: FaultRule[] = [];
  constructor(
    private readonly rules: readonly FaultRule[],
    private readonly random: Random,
  ) {}

  /** Make the next request (to this device) show `rule`. */
  once(rule: FaultRule): void {
    this.oneShots.push(rule);
  }

  next(): FaultRule | undefined {
    const shot = this.oneShots.shift();
    if (shot !== undefined) return shot;
    for (const r of this.rules) if (this.random() < (r.probability ?? 1)) return r;
    return undefined;
  }
}
