import { WireError } from '../errors.ts';
import { type EdgeListener, type Level, LINE_NAME, type Wires } from './types.ts';

export function checkLineName(line: string): void {
  if (!LINE_NAME.test(line)) {
    throw new WireError(
      'WIRE_LINE_NAME',
      `wire line name ${JSON.stringify(line)} is not valid`,
      'use 1-64 characters of letters, digits and _ . : - (e.g. "s0.water")',
    );
  }
}

export function checkLevel(level: number): asserts level is Level {
  if (level !== 0 && level !== 1) {
    throw new WireError('WIRE_LEVEL', `wire level ${level} is not valid`, 'drive a line with 0 or 1');
  }
}

export interface MemoryWiresOptions {
  /** When given, only these lines exist and any other name is rejected; otherwise lines appear on first use. */
  lines?: readonly string[];
}

/**
 * An in-process wire bus. Also the state holder inside `WireServer`.
 * Edge listeners run synchronously inside `set`, so tests see edges without waiting.
 */
export class MemoryWires implements Wires {
  private readonly levels = new Map<string, Level>();
  private readonly listeners = new Map<string, Set<EdgeListener>>();
  private readonly anyListeners = new Set<(line: string, level: Level, atNs: bigint) => void>();
  private readonly fixedLines: boolean;
  private closed = false;

  constructor(options: MemoryWiresOptions = {}) {
    this.fixedLines = options.lines !== undefined;
    for (const line of options.lines ?? []) {
      checkLineName(line);
      this.levels.set(line, 0);
    }
  }

  /** Names of the lines known so far, sorted. */
  lines(): string[] {
    return [...this.levels.keys()].sort();
  }

  private check(line: string): void {
    if (this.closed) throw new WireError('WIRE_CLOSED', 'the wire bus is closed', 'create a new bus');
    checkLineName(line);
    if (this.fixedLines && !this.levels.has(line)) {
      throw new WireError(
        'WIRE_UNKNOWN_LINE',
        `wire line "${line}" does not exist on this bus`,
        `use one of: ${this.lines().join(', ') || '(none)'}; or declare it in the rig's wires.lines`,
      );
    }
  }

  /** Synchronous set with an explicit timestamp; returns whether the level changed. */
  setAt(line: string, level: Level, atNs: bigint): boolean {
    this.check(line);
    checkLevel(level);
    const before = this.levels.get(line) ?? 0;
    this.levels.set(line, level);
    if (before === level) return false;
    for (const listener of this.listeners.get(line) ?? []) listener(level, atNs);
    for (const listener of this.anyListeners) listener(line, level, atNs);
    return true;
  }

  readNow(line: string): Level {
    this.check(line);
    return this.levels.get(line) ?? 0;
  }

  async set(line: string, level: Level): Promise<void> {
    this.setAt(line, level, process.hrtime.bigint());
  }

  async read(line: string): Promise<Level> {
    return this.readNow(line);
  }

  onEdge(line: string, listener: EdgeListener): () => void {
    this.check(line);
    let set = this.listeners.get(line);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(line, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Every edge on every line (used by `WireServer` to fan edges out to its clients). */
  onAnyEdge(listener: (line: string, level: Level, atNs: bigint) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.anyListeners.clear();
  }
}
