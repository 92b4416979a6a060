import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GpioChipNotFoundError, UnsupportedPlatformError } from '../errors.ts';
import { discoverGpioBase, discoverGpioChip, listGpioChips } from './gpio-base.ts';

const root = mkdtempSync(join(tmpdir(), 'brana-sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Writes a fake /sys/class/gpio: chips as [label, base, ngpio], plus the export files sysfs has. */
function fakeSysfs(chips: [string, number, number][]): string {
  const dir = join(root, `gpio${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'export'), '');
  writeFileSync(join(dir, 'unexport'), '');
  for (const [label, base, ngpio] of chips) {
    const chip = join(dir, `gpiochip${base}`);
    mkdirSync(chip);
    writeFileSync(join(chip, 'label'), `${label}\n`);
    writeFileSync(join(chip, 'base'), `${base}\n`);
    writeFileSync(join(chip, 'ngpio'), `${ngpio}\n`);
  }
  return dir;
}

describe('discoverGpioBase on sysfs trees seen in the field', () => {
  it('Pi 4 / CM4 on a 6.6+ kernel: pinctrl-bcm2711 at 512, expander elsewhere', () => {
    const dir = fakeSysfs([
      ['pinctrl-bcm2711', 512, 58],
      ['raspberrypi-exp-gpio', 570, 8],
    ]);
    expect(discoverGpioBase(dir)).toBe(512);
    expect(discoverGpioChip(dir)).toEqual({
      chip: 'gpiochip512',
      label: 'pinctrl-bcm2711',
      base: 512,
      ngpio: 58,
    });
  });

  it('Pi 5: the header is on RP1 at 571, not on the BCM2712 chips', () => {
    const dir = fakeSysfs([
      ['gpio-brcmstb@107d508500', 512, 32],
      ['gpio-brcmstb@107d508520', 544, 4],
      ['pinctrl-rp1', 571, 54],
      ['gpio-brcmstb@107d517c00', 549, 17],
    ]);
    expect(discoverGpioBase(dir)).toBe(571);
  });

  it('older kernel: pinctrl-bcm2835 at 0', () => {
    const dir = fakeSysfs([
      ['raspberrypi-exp-gpio', 504, 8],
      ['pinctrl-bcm2835', 0, 54],
    ]);
    expect(discoverGpioBase(dir)).toBe(0);
  });

  it('board hints are tried in order', () => {
    const dir = fakeSysfs([
      ['pinctrl-bcm2835', 0, 54],
      ['pinctrl-bcm2711', 512, 58],
    ]);
    expect(discoverGpioBase(dir, ['pinctrl-bcm2711', 'pinctrl-bcm2835'])).toBe(512);
    expect(discoverGpioBase(dir, ['pinctrl-bcm2835'])).toBe(0);
  });

  it('no GPIO sysfs at all is a typed UnsupportedPlatformError that says so', () => {
    const missing = join(root, 'no-such-dir');
    let err: unknown;
    try {
      discoverGpioBase(missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedPlatformError);
    const e = err as UnsupportedPlatformError;
    expect(e.code).toBe('UNSUPPORTED_PLATFORM');
    expect(e.feature).toBe('gpio-sysfs');
    expect(e.message).toMatch(/this platform has no GPIO sysfs .*ENOENT.*Fix: .*bench GPIO backend/);
  });

  it('GPIO sysfs without chips (e.g. a container) is UnsupportedPlatformError too', () => {
    expect(() => discoverGpioBase(fakeSysfs([]))).toThrow(UnsupportedPlatformError);
  });

  it('chips present but none of the SoC: GpioChipNotFoundError lists what was found', () => {
    const dir = fakeSysfs([['gpio-mockup-A', 100, 8]]);
    let err: unknown;
    try {
      discoverGpioBase(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpioChipNotFoundError);
    expect((err as GpioChipNotFoundError).labelsSeen).toEqual(['gpio-mockup-A']);
    expect((err as Error).message).toMatch(/found gpiochip100=gpio-mockup-A.*Fix:/);
  });

  it('skips half-written chips instead of failing', () => {
    const dir = fakeSysfs([['pinctrl-bcm2711', 512, 58]]);
    mkdirSync(join(dir, 'gpiochip9'));
    writeFileSync(join(dir, 'gpiochip9', 'label'), 'pinctrl-bcm2711\n');
    expect(listGpioChips(dir).map((c) => c.chip)).toEqual(['gpiochip512']);
    expect(discoverGpioBase(dir)).toBe(512);
  });
});

describe('property: the base comes from the chip with the SoC label, wherever it is', () => {
  it('finds the base among any other chips', () => {
    const otherLabel = fc.stringMatching(/^[a-z][a-z0-9@-]{0,20}$/).filter((l) => !l.startsWith('pinctrl-'));
    fc.assert(
      fc.property(
        fc.constantFrom('pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'),
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }),
        fc.array(otherLabel, { minLength: 4, maxLength: 4 }),
        (soc, bases, others) => {
          const [socBase, ...rest] = bases as [number, ...number[]];
          const dir = fakeSysfs([
            [soc, socBase, 54],
            ...rest.map((b, i) => [others[i]!, b, 8] as [string, number, number]),
          ]);
          expect(discoverGpioBase(dir)).toBe(socBase);
        },
      ),
      { numRuns: 40 },
    );
  });
});
