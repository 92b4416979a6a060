// The part of a digital input every backend shares: polarity, software debounce, edge
// selection and listener fan-out. Backends feed it raw physical changes; it never allocates
// per edge (listeners get level and time as arguments; the pending change lives in fields).
import { PortClosedError } from '../../errors.ts';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import type {
  DigitalInput,
  DigitalInputOptions,
  EdgeKind,
  EdgeListener,
  Level,
  Unsubscribe,
} from './digital.ts';
import { validateInputOptions } from './options.ts';

export class EdgeFilter {
  readonly #clock: Clock;
  readonly #name: string;
  readonly #debounceMs: number;
  readonly #edge: EdgeKind;
  readonly #activeLow: boolean;
  #reported: Level;
  #pending = false;
  #pendingLevel: Level = 0;
  #pendingAtNs = 0n;
  #timer: TimerHandle | undefined;
  #listeners: EdgeListener[] = [];
  #closed = false;
  readonly #onTimer = () => {
    this.#timer = undefined;
    if (!this.#pending) return;
    this.#pending = false;
    this.#report(this.#pendingLevel, this.#pendingAtNs);
  };

  /** `initialPhysical` is the physical line level when the input was opened. */
  constructor(clock: Clock, name: string, initialPhysical: Level, options: DigitalInputOptions = {}) {
    const o = validateInputOptions(name, options);
    this.#clock = clock;
    this.#name = name;
    this.#debounceMs = o.debounceMs;
    this.#edge = o.edge;
    this.#activeLow = o.activeLow;
    this.#reported = this.#logical(initialPhysical);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The debounced logical level. */
  level(): Level {
    return this.#reported;
  }

  /** Feeds one raw physical level seen at `atNs` (duplicates are fine and ignored). */
  raw(physical: Level, atNs: bigint): void {
    if (this.#closed) return;
    const level = this.#logical(physical);
    if (this.#debounceMs === 0) {
      if (level !== this.#reported) this.#report(level, atNs);
      return;
    }
    if (level === this.#reported) {
      // Bounced back before the debounce window ended: the change never happened.
      this.#pending = false;
      this.#cancelTimer();
      return;
    }
    if (this.#pending && this.#pendingLevel === level) return;
    this.#pending = true;
    this.#pendingLevel = level;
    this.#pendingAtNs = atNs;
    this.#cancelTimer();
    this.#timer = this.#clock.setTimeout(this.#onTimer, this.#debounceMs);
  }

  onEdge(listener: EdgeListener): Unsubscribe {
    if (this.#closed) throw new PortClosedError(this.#name, 'the input is closed');
    // Copy on change, so a listener that unsubscribes during dispatch does not skip another.
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  close(): void {
    this.#closed = true;
    this.#pending = false;
    this.#cancelTimer();
    this.#listeners = [];
  }

  #logical(physical: Level): Level {
    return this.#activeLow ? ((physical ^ 1) as Level) : physical;
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #report(level: Level, atNs: bigint): void {
    this.#reported = level;
    if (this.#edge === 'rising' && level === 0) return;
    if (this.#edge === 'falling' && level === 1) return;
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(level, atNs);
  }
}

/** A DigitalInput over an EdgeFilter, for every backend; `release` detaches it from the line once. */
export class FilteredInput implements DigitalInput {
  readonly name: string;
  readonly #filter: EdgeFilter;
  readonly #release: () => void;

  constructor(name: string, filter: EdgeFilter, release: () => void) {
    this.name = name;
    this.#filter = filter;
    this.#release = release;
  }

  read(): Level {
    if (this.#filter.closed) throw new PortClosedError(this.name, 'the input is closed');
    return this.#filter.level();
  }

  onEdge(listener: EdgeListener): Unsubscribe {
    return this.#filter.onEdge(listener);
  }

  async close(): Promise<void> {
    if (this.#filter.closed) return;
    this.#filter.close();
    this.#release();
  }
}
