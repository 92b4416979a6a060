// GPIO on a Raspberry Pi (or any Linux board) through the kernel's sysfs interface, using onoff.
// Line numbers given to this backend are BCM offsets; the sysfs number is the discovered base of
// the SoC's gpiochip plus the offset (the base is 0, 512 or 571 depending on kernel and board).
// sysfs has no kernel edge timestamps, so edges are stamped when onoff's epoll wakes us.
import { createRequire } from 'node:module';
import { discoverGpioBase, UnsupportedPlatformError } from '@brana/hardware';
import type { Gpio as OnoffGpio } from 'onoff';
import { GpioError, HalConfigError, PortClosedError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';
import type {
  DigitalInput,
  DigitalInputOptions,
  DigitalOutput,
  DigitalOutputOptions,
  GpioBackend,
  Level,
} from './digital.ts';
import { EdgeFilter, FilteredInput } from './edge-filter.ts';
import { checkLevel, validateOutputOptions } from './options.ts';

type GpioClass = typeof OnoffGpio;

export interface SysfsGpioOptions {
  clock: Clock;
  /** sysfs GPIO number of BCM offset 0. When omitted, `discoverGpioBase` is asked. */
  gpioBase?: number;
  /** Finds the base from each gpiochip's label and base. Default: `discoverGpioBase` of @brana/hardware. */
  discoverGpioBase?: () => number | Promise<number>;
}

const FIX_USE_BENCH =
  "on a laptop, in CI or on the bench use gpio: 'bench' (bench rig wires) or gpio: 'memory' (tests); " +
  'on a Raspberry Pi enable the sysfs GPIO interface (CONFIG_GPIO_SYSFS) and run as a user in the gpio group';

const require = createRequire(import.meta.url);

function loadOnoff(): GpioClass {
  let mod: { Gpio: GpioClass };
  try {
    // onoff pulls in the native epoll addon, which only builds on Linux.
    mod = require('onoff') as { Gpio: GpioClass };
  } catch (e) {
    throw new UnsupportedPlatformError(
      'gpio-sysfs',
      'the onoff GPIO driver cannot load here',
      FIX_USE_BENCH,
      e,
    );
  }
  if (!mod.Gpio.accessible) {
    throw new UnsupportedPlatformError(
      'gpio-sysfs',
      'GPIO sysfs (/sys/class/gpio) is not available on this machine',
      FIX_USE_BENCH,
    );
  }
  return mod.Gpio;
}

/** Opens the sysfs backend; throws UnsupportedPlatformError where there is no GPIO sysfs. */
export async function openSysfsGpio(options: SysfsGpioOptions): Promise<SysfsGpio> {
  const Gpio = loadOnoff();
  const base = options.gpioBase ?? (await (options.discoverGpioBase ?? (() => discoverGpioBase()))());
  if (!Number.isInteger(base) || base < 0) {
    throw new HalConfigError(
      'gpio.gpioBase',
      `GPIO base must be a non-negative integer, got ${base}`,
      'check gpiochip*/base',
    );
  }
  return new SysfsGpio(Gpio, base, options.clock);
}

interface OpenLine {
  gpio: OnoffGpio;
  mode: 'in' | 'out';
  users: number;
}

export class SysfsGpio implements GpioBackend {
  readonly kind = 'sysfs' as const;
  readonly gpioBase: number;
  readonly #Gpio: GpioClass;
  readonly #clock: Clock;
  /**
   * onoff reuses a GPIO that is already exported, and unexporting it removes it for every user.
   * So inputs on one line share one export (each with its own watcher), released by the last.
   */
  readonly #lines = new Map<number, OpenLine>();

  constructor(Gpio: GpioClass, gpioBase: number, clock: Clock) {
    this.#Gpio = Gpio;
    this.gpioBase = gpioBase;
    this.#clock = clock;
  }

  #number(line: number | string): number {
    // Configs name lines as the board profiles do ("GPIO17"); a bare number is the BCM offset too.
    const m = typeof line === 'string' ? /^(?:GPIO)?(\d{1,2})$/i.exec(line.trim()) : null;
    const n = typeof line === 'number' ? line : m ? Number(m[1]) : Number.NaN;
    if (!Number.isInteger(n) || n < 0 || n > 57) {
      throw new HalConfigError(
        'gpio.line',
        `sysfs GPIO lines are BCM offsets 0-57 ("GPIO17" or 17), got ${JSON.stringify(line)}`,
        'use the BCM number from the board profile (e.g. GPIO17 for header pin 11)',
      );
    }
    return this.gpioBase + n;
  }

  #acquire(n: number, name: string, mode: 'in' | 'out', direction: 'in' | 'high' | 'low'): OnoffGpio {
    const open = this.#lines.get(n);
    if (open !== undefined) {
      if (mode === 'in' && open.mode === 'in') {
        open.users++;
        return open.gpio;
      }
      throw new GpioError(
        name,
        `already open as an ${open.mode === 'in' ? 'input' : 'output'} in this process`,
        'use one output per line; an output and an input on the same line need a jumper between two pins',
      );
    }
    let gpio: OnoffGpio;
    try {
      gpio = mode === 'in' ? new this.#Gpio(n, 'in', 'both') : new this.#Gpio(n, direction);
    } catch (e) {
      throw new GpioError(
        name,
        `cannot export sysfs GPIO ${n} as an ${mode === 'in' ? 'input' : 'output'}`,
        'check that no other process holds the line and that this user is in the gpio group',
        e,
      );
    }
    this.#lines.set(n, { gpio, mode, users: 1 });
    return gpio;
  }

  #release(n: number): void {
    const open = this.#lines.get(n);
    if (open === undefined) return;
    if (--open.users > 0) return;
    this.#lines.delete(n);
    open.gpio.unexport();
  }

  async openInput(line: number | string, options: DigitalInputOptions = {}): Promise<DigitalInput> {
    const n = this.#number(line);
    const name = `gpio${line}`;
    const gpio = this.#acquire(n, name, 'in', 'in');
    let filter: EdgeFilter;
    try {
      filter = new EdgeFilter(this.#clock, name, gpio.readSync(), options);
    } catch (e) {
      this.#release(n);
      throw e;
    }
    const onChange = (err: Error | null | undefined, value: Level) => {
      // A failed read of the value file carries no level; the next interrupt re-reads it.
      if (err) return;
      filter.raw(value, this.#clock.monotonicNs());
    };
    gpio.watch(onChange);
    return new FilteredInput(name, filter, () => {
      gpio.unwatch(onChange);
      this.#release(n);
    });
  }

  async openOutput(line: number | string, options: DigitalOutputOptions = {}): Promise<DigitalOutput> {
    const n = this.#number(line);
    const name = `gpio${line}`;
    const o = validateOutputOptions(name, options);
    // 'high'/'low' set direction and initial value in one write, so the pin never glitches;
    // the kernel applies them raw (ignoring active_low), hence the physical level here.
    const physical = o.activeLow ? o.initial ^ 1 : o.initial;
    const gpio = this.#acquire(n, name, 'out', physical === 1 ? 'high' : 'low');
    return new SysfsOutput(name, gpio, o.initial, o.activeLow, () => this.#release(n));
  }

  async close(): Promise<void> {}
}

class SysfsOutput implements DigitalOutput {
  readonly name: string;
  readonly #gpio: OnoffGpio;
  readonly #activeLow: boolean;
  readonly #release: () => void;
  #level: Level;
  #closed = false;

  constructor(name: string, gpio: OnoffGpio, initial: Level, activeLow: boolean, release: () => void) {
    this.name = name;
    this.#gpio = gpio;
    this.#level = initial;
    this.#activeLow = activeLow;
    this.#release = release;
  }

  write(level: Level): void {
    if (this.#closed) throw new PortClosedError(this.name, 'the output is closed');
    checkLevel(`${this.name}.write`, level);
    try {
      this.#gpio.writeSync((this.#activeLow ? level ^ 1 : level) as Level);
    } catch (e) {
      throw new GpioError(
        this.name,
        'writing the sysfs value file failed',
        'check that the line is still exported',
        e,
      );
    }
    this.#level = level;
  }

  read(): Level {
    return this.#level;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#level = 0;
    try {
      this.#gpio.writeSync((this.#activeLow ? 1 : 0) as Level);
    } finally {
      this.#release();
    }
  }
}
