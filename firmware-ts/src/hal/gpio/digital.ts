// Digital lines as the rest of the firmware sees them: logical levels (after active-low
// inversion), edges stamped with monotonic nanoseconds at the moment the backend saw them.

/** Logical level: 1 = active/asserted, 0 = inactive. */
export type Level = 0 | 1;

/** Which transitions a digital input reports. */
export type EdgeKind = 'rising' | 'falling' | 'both';

/**
 * Edge callback. Level and time are passed as arguments (no event object) so the real-time
 * loop's hot path allocates nothing per edge beyond the bigint timestamp itself.
 * `atNs` is on the same scale as `Clock.monotonicNs()` of the clock the input was made with.
 */
export type EdgeListener = (level: Level, atNs: bigint) => void;

/** Removes the listener it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

export interface DigitalInputOptions {
  /** Edges to report. Default 'both'. */
  edge?: EdgeKind;
  /**
   * Software debounce: a new level is reported only once it has held for this long, stamped
   * with the time it began. 0 (default) reports every change at once.
   */
  debounceMs?: number;
  /** The physical line is active when low (pull-up with a contact to ground). Default false. */
  activeLow?: boolean;
}

export interface DigitalInput {
  /** Human-readable name of the line, e.g. `gpio17`, `bench:detector-a`. */
  readonly name: string;
  /** Current (debounced) logical level. */
  read(): Level;
  /** Calls `listener` on each reported edge until unsubscribed or closed. */
  onEdge(listener: EdgeListener): Unsubscribe;
  /** Stops edge delivery and releases the line. Idempotent. */
  close(): Promise<void>;
}

export interface DigitalOutputOptions {
  /** Level driven from the moment the line is opened. Default 0: outputs are off at boot. */
  initial?: Level;
  /** Drive the physical line low for logical 1. Default false. */
  activeLow?: boolean;
}

export interface DigitalOutput {
  readonly name: string;
  /** Drives the line. Throws `GpioError` if the backend rejects it, `PortClosedError` after close. */
  write(level: Level): void;
  /** The level last written (or the initial level). */
  read(): Level;
  /** Drives the line to 0, then releases it. Idempotent. */
  close(): Promise<void>;
}

/** Opens lines of one GPIO backend. `line` is the board's BCM offset or a bench wire name. */
export interface GpioBackend {
  readonly kind: 'sysfs' | 'bench' | 'memory';
  openInput(line: number | string, options?: DigitalInputOptions): Promise<DigitalInput>;
  openOutput(line: number | string, options?: DigitalOutputOptions): Promise<DigitalOutput>;
  /** Releases the backend itself (bench connection); lines must be closed first. */
  close(): Promise<void>;
}
