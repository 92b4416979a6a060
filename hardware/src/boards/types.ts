import type { z } from 'zod';
import type { boardProfileSchema, boardUartSchema, headerPinSchema } from './schema.ts';

export type BoardProfile = z.output<typeof boardProfileSchema>;
export type HeaderPin = z.output<typeof headerPinSchema>;
export type BoardUart = z.output<typeof boardUartSchema>;

/** A GPIO chip as sysfs shows it. */
export interface GpioChipInfo {
  /** Directory name, e.g. gpiochip512. */
  chip: string;
  label: string;
  /** sysfs number of line 0: sysfs GPIO = base + BCM number. */
  base: number;
  ngpio: number;
}
