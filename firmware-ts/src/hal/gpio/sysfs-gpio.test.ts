// The real sysfs backend. Where GPIO sysfs is missing (CI, laptops, this container) it must refuse
// with UnsupportedPlatformError; on a board with a loopback jumper (BRANA_GPIO_LOOPBACK=out:in,
// BCM offsets) it runs the shared contract suites.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UnsupportedPlatformError } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { RealClock } from '../clock/real-clock.ts';
import { describeDigitalInputContract, describeDigitalOutputContract } from '../contracts/gpio.contract.ts';
import { openSysfsGpio } from './sysfs-gpio.ts';

const { Gpio } = createRequire(import.meta.url)('onoff') as typeof import('onoff');
const clock = new RealClock();
const loopback = process.env.BRANA_GPIO_LOOPBACK?.split(':').map(Number);
const base = Number(process.env.BRANA_GPIO_BASE ?? 0);

if (!Gpio.accessible) {
  describe('sysfs GPIO on a machine without GPIO', () => {
    it('refuses with UnsupportedPlatformError that says what to use instead', async () => {
      const attempt = openSysfsGpio({ clock, gpioBase: 0 });
      await expect(attempt).rejects.toThrow(UnsupportedPlatformError);
      await expect(openSysfsGpio({ clock, gpioBase: 0 })).rejects.toThrow(
        /not available.*Fix:.*gpio: 'bench'/,
      );
      const err = await openSysfsGpio({ clock, gpioBase: 0 }).catch((e: unknown) => e);
      expect((err as UnsupportedPlatformError).code).toBe('UNSUPPORTED_PLATFORM');
      expect((err as UnsupportedPlatformError).feature).toBe('gpio-sysfs');
    });
  });
} else if (loopback === undefined || loopback.length !== 2) {
  describe('sysfs GPIO on a board without a loopback jumper', () => {
    it('opens and drives an output, seen in the sysfs value file', async () => {
      const pin = Number(process.env.BRANA_GPIO_TEST_PIN ?? 26);
      const gpio = await openSysfsGpio({ clock, gpioBase: base });
      const out = await gpio.openOutput(pin, { initial: 1 });
      expect(readFileSync(`/sys/class/gpio/gpio${base + pin}/value`, 'utf8').trim()).toBe('1');
      await out.close();
    });
  });
} else {
  const [outPin, inPin] = loopback as [number, number];
  async function waitUntil(done: () => boolean, limitMs: number) {
    const deadline = performance.now() + limitMs + 2000;
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    return done();
  }
  describeDigitalInputContract('sysfs loopback', async () => {
    const gpio = await openSysfsGpio({ clock, gpioBase: base });
    const driver = await gpio.openOutput(outPin);
    return {
      clock,
      waitUntil,
      open: (options) => gpio.openInput(inPin, options),
      drive: async (level) => driver.write(level),
      dispose: () => driver.close(),
    };
  });
  describeDigitalOutputContract('sysfs', async () => {
    const gpio = await openSysfsGpio({ clock, gpioBase: base });
    return {
      clock,
      waitUntil,
      open: (options) => gpio.openOutput(outPin, options),
      physical: async () =>
        readFileSync(`/sys/class/gpio/gpio${base + outPin}/value`, 'utf8').trim() === '1' ? 1 : 0,
      dispose: async () => {},
    };
  });
}
