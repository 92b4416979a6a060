// The interface every bench wire bus offers: named simulated GPIO lines with a level of 0 or 1.
// Implemented in-process (`MemoryWires`) and across processes (`WireServer` + `connectWires`).

export type Level = 0 | 1;

/**
 * Called for every change of a line's level. `atNs` is CLOCK_MONOTONIC in nanoseconds
 * (`process.hrtime.bigint()`) taken where the level was set, so a receiver in another process on the
 * same machine can subtract it from its own `process.hrtime.bigint()` to get the crossing latency.
 */
export type EdgeListener = (level: Level, atNs: bigint) => void;

export interface Wires {
  /** Drive a line. Resolves once the bus holds the new level (and every edge listener was sent it). */
  set(line: string, level: Level): Promise<void>;
  /** The line's current level; a line never driven reads 0. */
  read(line: string): Promise<Level>;
  /** Listen for level changes of one line (not repeats of the same level). Returns an unsubscribe function. */
  onEdge(line: string, listener: EdgeListener): () => void;
  close(): Promise<void>;
}

/** Line names: 1-64 characters of letters, digits and `_ . : -`, e.g. `s0.water` or `gpio17`. */
export const LINE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
