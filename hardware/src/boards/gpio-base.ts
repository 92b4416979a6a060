import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpioChipNotFoundError, UnsupportedPlatformError } from '../errors.ts';
import type { GpioChipInfo } from './types.ts';

/**
 * Labels of Raspberry Pi SoC GPIO chips, most specific first. The sysfs base of that chip differs by
 * kernel and board (0 on old kernels; 512 for pinctrl-bcm2711 and 571 for pinctrl-rp1 on 6.6+), so
 * it is read from sysfs, never assumed.
 */
export const KNOWN_SOC_GPIO_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export const DEFAULT_GPIO_SYSFS_ROOT = '/sys/class/gpio';

const NO_SYSFS_FIX =
  'run on a Raspberry Pi whose kernel has GPIO sysfs (CONFIG_GPIO_SYSFS), or use the bench GPIO backend on this machine';

/** Every gpiochip* under `sysfsRoot` with its label, base and line count. */
export function listGpioChips(sysfsRoot = DEFAULT_GPIO_SYSFS_ROOT): GpioChipInfo[] {
  let names: string[];
  try {
    names = readdirSync(sysfsRoot);
  } catch (e) {
    throw new UnsupportedPlatformError(
      'gpio-sysfs',
      `this platform has no GPIO sysfs (${sysfsRoot} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      NO_SYSFS_FIX,
      e,
    );
  }
  const chips: GpioChipInfo[] = [];
  for (const chip of names.filter((n) => /^gpiochip\d+$/.test(n)).sort()) {
    const read = (f: string) => readFileSync(join(sysfsRoot, chip, f), 'utf8').trim();
    let label: string;
    let baseText: string;
    let ngpioText: string;
    try {
      label = read('label');
      baseText = read('base');
      ngpioText = read('ngpio');
    } catch {
      continue; // a chip vanishing or half-registered while we look is not ours to judge
    }
    const base = Number(baseText);
    const ngpio = Number(ngpioText);
    if (!Number.isInteger(base) || base < 0 || !Number.isInteger(ngpio) || ngpio < 1) continue;
    chips.push({ chip, label, base, ngpio });
  }
  return chips;
}

/**
 * Finds the SoC's GPIO chip by label. `labelHints` are tried in order (a board profile's
 * `gpioChip.labels`); the default covers Pi 4, CM4, Pi 5 and older boards.
 */
export function discoverGpioChip(
  sysfsRoot = DEFAULT_GPIO_SYSFS_ROOT,
  labelHints: readonly string[] = KNOWN_SOC_GPIO_LABELS,
): GpioChipInfo {
  const chips = listGpioChips(sysfsRoot);
  if (chips.length === 0) {
    throw new UnsupportedPlatformError(
      'gpio-sysfs',
      `this platform has no GPIO sysfs chips (${sysfsRoot} holds no gpiochip*)`,
      NO_SYSFS_FIX,
    );
  }
  for (const hint of labelHints) {
    const match = chips.filter((c) => c.label === hint).sort((a, b) => a.base - b.base)[0];
    if (match) return match;
  }
  const seen = chips.map((c) => `${c.chip}=${c.label}`);
  throw new GpioChipNotFoundError(
    `no GPIO chip labelled ${labelHints.join(' or ')} under ${sysfsRoot} (found ${seen.join(', ')})`,
    "pass the SoC chip's label from this list as a hint, or add it to the board profile's gpioChip.labels",
    chips.map((c) => c.label),
  );
}

/** The sysfs GPIO number of BCM line 0 of the SoC chip: sysfs GPIO = base + BCM number. */
export function discoverGpioBase(
  sysfsRoot = DEFAULT_GPIO_SYSFS_ROOT,
  labelHints: readonly string[] = KNOWN_SOC_GPIO_LABELS,
): number {
  return discoverGpioChip(sysfsRoot, labelHints).base;
}
