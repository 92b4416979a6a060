// SysfsGpio's own logic (BCM offset + base, glitch-free output direction, polarity, watch to
// EdgeFilter, release on close) run through the shared GPIO contracts. The physical pins are the
// one thing that cannot exist here, so an in-memory stand-in for onoff's Gpio class plays the
// kernel's sysfs: it knows exported numbers, direction, value, and wakes watchers as epoll would.
import type { Gpio as OnoffGpio } from 'onoff';
import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../../errors.ts';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { describeDigitalInputContract, describeDigitalOutputContract } from '../contracts/gpio.contract.ts';
import type { Level } from './digital.ts';
import { SysfsGpio } from './sysfs-gpio.ts';

type Watcher = (err: Error | null | undefined, value: Level) => void;

/** Physical pins by sysfs number, shared by every FakeGpio, like the kernel's. */
class FakeSysfs {
  readonly levels = new Map<number, Level>();
  readonly exported = new Set<number>();
  readonly directions = new Map<number, string>();
  readonly watchers = new Map<number, Set<Watcher>>();
  /** Numbers whose export the "kernel" refuses (another owner, no permission). */
  readonly refuse = new Set<number>();

  /** Something outside drives the pin (a sensor, a jumper). */
  drive(n: number, level: Level): void {
    if (this.levels.get(n) === level) return;
    this.levels.set(n, level);
    for (const w of this.watchers.get(n) ?? []) queueMicrotask(() => w(null, level));
  }

  gpioClass(): typeof OnoffGpio {
    const sysfs = this;
    class FakeGpio {
      static HIGH = 1 as const;
      static LOW = 0 as const;
      static accessible = true;
      readonly #n: number;
      constructor(n: number, direction: string) {
        if (sysfs.refuse.has(n)) throw new Error(`EACCES: permission denied, open '/sys/class/gpio/export'`);
        // Like onoff: a number already exported is reused, not refused.
        sysfs.exported.add(n);
        sysfs.directions.set(n, direction);
        this.#n = n;
        // 'high'/'low' set an output and its raw value in one step, as the kernel does.
        if (direction === 'high') sysfs.levels.set(n, 1);
        if (direction === 'low') sysfs.levels.set(n, 0);
      }
      readSync(): Level {
        return sysfs.levels.get(this.#n) ?? 0;
      }
      writeSync(value: Level): void {
        if (!sysfs.exported.has(this.#n)) throw new Error('EINVAL: not exported');
        sysfs.drive(this.#n, value);
      }
      watch(cb: Watcher): void {
        let set = sysfs.watchers.get(this.#n);
        if (!set) {
          set = new Set();
          sysfs.watchers.set(this.#n, set);
        }
        set.add(cb);
      }
      unwatch(cb: Watcher): void {
        sysfs.watchers.get(this.#n)?.delete(cb);
      }
      unwatchAll(): void {
        sysfs.watchers.delete(this.#n);
      }
      unexport(): void {
        sysfs.exported.delete(this.#n);
      }
    }
    return FakeGpio as unknown as typeof OnoffGpio;
  }
}

const BASE = 512; // Pi 5 / newer kernels
const IN = 17;
const OUT = 27;

function rig() {
  const sysfs = new FakeSysfs();
  const clock = new VirtualClock();
  const gpio = new SysfsGpio(sysfs.gpioClass(), BASE, clock);
  const waitUntil = (done: () => boolean, limitMs: number) => clock.runUntilAsync(done, limitMs);
  return { sysfs, clock, gpio, waitUntil };
}

describeDigitalInputContract('SysfsGpio logic on an in-memory sysfs', async () => {
  const r = rig();
  return {
    clock: r.clock,
    waitUntil: r.waitUntil,
    open: (options) => r.gpio.openInput(IN, options),
    drive: async (level) => r.sysfs.drive(BASE + IN, level),
    dispose: async () => {},
  };
});

describeDigitalOutputContract('SysfsGpio logic on an in-memory sysfs', async () => {
  const r = rig();
  return {
    clock: r.clock,
    waitUntil: r.waitUntil,
    open: (options) => r.gpio.openOutput(OUT, options),
    physical: async () => r.sysfs.levels.get(BASE + OUT) ?? 0,
    dispose: async () => {},
  };
});

describe('SysfsGpio', () => {
  it('exports base + BCM offset, sets an active-low output off without a glitch, and unexports on close', async () => {
    const r = rig();
    const out = await r.gpio.openOutput(OUT, { activeLow: true });
    expect(r.sysfs.exported.has(BASE + OUT)).toBe(true);
    // Logical 0 on an active-low line is physical 1, set together with the direction.
    expect(r.sysfs.directions.get(BASE + OUT)).toBe('high');
    await out.close();
    expect(r.sysfs.exported.has(BASE + OUT)).toBe(false);
    expect(r.sysfs.levels.get(BASE + OUT)).toBe(1);
    const input = await r.gpio.openInput(IN);
    expect(r.sysfs.directions.get(BASE + IN)).toBe('in');
    const second = await r.gpio.openInput(IN, { edge: 'rising' });
    await input.close();
    // The line stays exported while another input uses it.
    expect(r.sysfs.exported.has(BASE + IN)).toBe(true);
    expect(r.sysfs.watchers.get(BASE + IN)?.size).toBe(1);
    await second.close();
    expect(r.sysfs.watchers.get(BASE + IN)?.size ?? 0).toBe(0);
    expect(r.sysfs.exported.has(BASE + IN)).toBe(false);
  });

  it('takes a line by its board-profile name ("GPIO17", any case) as well as by its BCM number', async () => {
    const r = rig();
    const out = await r.gpio.openOutput('GPIO17');
    expect(r.sysfs.exported.has(BASE + 17)).toBe(true);
    await expect(r.gpio.openOutput(17)).rejects.toThrow(/already open as an output/);
    await out.close();
    const input = await r.gpio.openInput('gpio4');
    expect(r.sysfs.directions.get(BASE + 4)).toBe('in');
    await input.close();
    const bare = await r.gpio.openInput('22');
    expect(r.sysfs.exported.has(BASE + 22)).toBe(true);
    await bare.close();
  });

  it('refuses a wire name, an offset outside the SoC, a second user of an output, and a refused export', async () => {
    const r = rig();
    await expect(r.gpio.openInput('door')).rejects.toThrow(HalConfigError);
    await expect(r.gpio.openInput('GPIO58')).rejects.toThrow(/BCM offsets 0-57/);
    await expect(r.gpio.openOutput(99)).rejects.toThrow(/BCM offsets 0-57.*Fix: use the BCM number/);
    const first = await r.gpio.openOutput(5);
    await expect(r.gpio.openOutput(5)).rejects.toThrow(
      /gpio5: already open as an output.*Fix: use one output per line/,
    );
    await expect(r.gpio.openInput(5)).rejects.toThrow(/gpio5: already open as an output/);
    await first.close();
    r.sysfs.refuse.add(BASE + 6);
    await expect(r.gpio.openInput(6)).rejects.toThrow(
      /GPIO gpio6: cannot export sysfs GPIO 518 as an input.*Fix: check that no other process holds the line/,
    );
  });
});
