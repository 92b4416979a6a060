// GPIO over a bench wire bus: `connectWires(socketPath)` (lines shared with the bench rig's
// simulators in other processes) or `MemoryWires` (in-process, for unit tests). The same
// EdgeFilter as the sysfs backend applies polarity, debounce and edge selection.
import type { Wires } from '@brana/hardware';
import { GpioError, PortClosedError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';
import type {
  DigitalInput,
  DigitalInputOptions,
  DigitalOutput,
  DigitalOutputOptions,
  GpioBackend,
  Level,
  Unsubscribe,
} from './digital.ts';
import { EdgeFilter, FilteredInput } from './edge-filter.ts';
import { checkLevel, validateOutputOptions } from './options.ts';

export interface WireGpioOptions {
  /** Clock for debounce timers. Edge times come from the bus (CLOCK_MONOTONIC where set). */
  clock: Clock;
  /** 'bench' for a socket bus, 'memory' for an in-process one; only reported, never branched on. */
  kind: 'bench' | 'memory';
  /** Close the bus when the backend closes (true when the backend opened it). Default false. */
  ownsBus?: boolean;
}

function wireName(line: number | string): string {
  // A BCM offset on the bench maps to the wire the rig calls `gpio<N>`.
  return typeof line === 'number' ? `gpio${line}` : line;
}

export class WireGpio implements GpioBackend {
  readonly kind: 'bench' | 'memory';
  readonly #bus: Wires;
  readonly #clock: Clock;
  readonly #ownsBus: boolean;

  constructor(bus: Wires, options: WireGpioOptions) {
    this.#bus = bus;
    this.#clock = options.clock;
    this.kind = options.kind;
    this.#ownsBus = options.ownsBus ?? false;
  }

  async openInput(line: number | string, options: DigitalInputOptions = {}): Promise<DigitalInput> {
    const name = wireName(line);
    // Subscribe before reading the level, so no edge falls between the two; edges that arrive
    // before the filter exists are kept (latest wins) and replayed into it.
    let filter: EdgeFilter | undefined;
    let early: { level: Level; atNs: bigint } | undefined;
    let unsubscribe: Unsubscribe;
    let initial: Level;
    try {
      unsubscribe = this.#bus.onEdge(name, (level, atNs) => {
        if (filter !== undefined) filter.raw(level, atNs);
        else early = { level, atNs };
      });
      initial = await this.#bus.read(name);
    } catch (e) {
      throw new GpioError(
        name,
        'cannot open the bench wire',
        'check the line name and that the bench rig runs',
        e,
      );
    }
    try {
      filter = new EdgeFilter(this.#clock, `bench:${name}`, initial, options);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    const pending = early as { level: Level; atNs: bigint } | undefined;
    if (pending !== undefined) filter.raw(pending.level, pending.atNs);
    return new FilteredInput(`bench:${name}`, filter, unsubscribe);
  }

  async openOutput(line: number | string, options: DigitalOutputOptions = {}): Promise<DigitalOutput> {
    const name = wireName(line);
    const o = validateOutputOptions(name, options);
    const output = new WireOutput(`bench:${name}`, name, this.#bus, o.initial, o.activeLow);
    await output.settled();
    return output;
  }

  async close(): Promise<void> {
    if (this.#ownsBus) await this.#bus.close();
  }
}

class WireOutput implements DigitalOutput {
  readonly name: string;
  readonly #wire: string;
  readonly #bus: Wires;
  readonly #activeLow: boolean;
  #level: Level;
  #closed = false;
  /** The bus is asynchronous; writes are chained so they land in order, and a failure surfaces on the next call. */
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(name: string, wire: string, bus: Wires, initial: Level, activeLow: boolean) {
    this.name = name;
    this.#wire = wire;
    this.#bus = bus;
    this.#activeLow = activeLow;
    this.#level = initial;
    this.#drive(initial);
  }

  /** Resolves once every write so far reached the bus; throws the first failure. */
  async settled(): Promise<void> {
    await this.#chain;
    this.#throwFailure();
  }

  write(level: Level): void {
    if (this.#closed) throw new PortClosedError(this.name, 'the output is closed');
    checkLevel(`${this.name}.write`, level);
    this.#throwFailure();
    this.#level = level;
    this.#drive(level);
  }

  read(): Level {
    return this.#level;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#level = 0;
    this.#drive(0);
    this.#closed = true;
    // Release must not fail: an earlier bus failure was already reported by write().
    await this.#chain;
  }

  #drive(level: Level): void {
    const physical = (this.#activeLow ? level ^ 1 : level) as Level;
    this.#chain = this.#chain
      .then(() => this.#bus.set(this.#wire, physical))
      .catch((e: unknown) => {
        this.#failure ??= e;
      });
  }

  #throwFailure(): void {
    if (this.#failure !== undefined) {
      throw new GpioError(
        this.#wire,
        'the bench wire bus refused a write',
        'check that the bench rig still runs',
        this.#failure,
      );
    }
  }
}
