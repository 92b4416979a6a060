import { z } from 'zod';

// Board profiles (hardware/boards/<id>.yaml): the 40-pin header, GPIO line names, UARTs, and the
// label of the SoC's GPIO chip, from which the sysfs GPIO base is discovered at run time.

export const POWER_PIN_NAMES = ['3V3', '5V', 'GND'] as const;

export const headerPinSchema = z
  .strictObject({
    pin: z.number().int().min(1).max(40).describe('Physical pin on the 40-pin header'),
    name: z.string().min(1).describe('Line name: GPIO17, or 3V3 / 5V / GND for power pins'),
    gpio: z
      .number()
      .int()
      .min(0)
      .max(63)
      .optional()
      .describe('BCM GPIO number (line offset on the SoC chip)'),
    functions: z
      .array(z.string().min(1))
      .default([])
      .describe('Alternate functions worth knowing: TXD0, SDA1, PWM0'),
  })
  .describe('One header pin');

export const boardUartSchema = z.strictObject({
  name: z.string().regex(/^uart\d+$/, 'a UART name is uart<N>'),
  device: z.string().regex(/^\/dev\//, 'a device path starts with /dev/'),
  aliases: z.array(z.string()).default([]).describe('Stable names udev adds, e.g. /dev/serial0'),
  txPin: z.number().int().min(1).max(40).describe('Header pin of TXD'),
  rxPin: z.number().int().min(1).max(40).describe('Header pin of RXD'),
  enable: z.string().describe('config.txt line that enables it, e.g. dtoverlay=uart2'),
  notes: z.string().optional(),
});

export const boardProfileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'an id is kebab-case: lower-case letters, digits, dashes'),
  name: z.string().min(1),
  soc: z.string().min(1),
  docs: z.string().min(1).describe('Document the pinout and UART table come from'),
  gpioChip: z
    .strictObject({
      labels: z
        .array(z.string().min(1))
        .min(1)
        .describe('Labels of the SoC GPIO chip in /sys/class/gpio/gpiochip*/label, most likely first'),
      lines: z.number().int().positive().describe('GPIO lines of that chip (ngpio)'),
    })
    .describe('How to find the header GPIOs in sysfs: the base is discovered, never hard-coded'),
  header: z.array(headerPinSchema).length(40).describe('All 40 header pins, pin 1 first'),
  uarts: z.array(boardUartSchema).min(1),
  notes: z.array(z.string()).default([]),
});
