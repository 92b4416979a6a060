import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProfileError } from '../errors.ts';
import { parseYamlWith } from '../profiles/index.ts';
import { findUart, gpioForHeaderPin, headerPinForGpio, loadBoards, validateBoard } from './boards.ts';
import { KNOWN_SOC_GPIO_LABELS } from './gpio-base.ts';
import { BOARD_PROFILE_JSON_SCHEMA_PATH, renderBoardProfileJsonSchema } from './json-schema.ts';
import type { BoardProfile } from './types.ts';

const boards = loadBoards();

describe('board profiles', () => {
  it('ships Raspberry Pi 4B, Pi 5 and CM4', () => {
    expect([...boards.keys()].sort()).toEqual(['raspberry-pi-4b', 'raspberry-pi-5', 'raspberry-pi-cm4']);
  });

  it('all three share the standard 40-pin mapping', () => {
    const mapping = (b: BoardProfile) => b.header.map((p) => [p.pin, p.gpio ?? p.name]);
    const [first, ...rest] = [...boards.values()];
    for (const b of rest) expect(mapping(b)).toEqual(mapping(first!));
  });

  it('knows the well-known pins', () => {
    const pi4 = boards.get('raspberry-pi-4b')!;
    expect(gpioForHeaderPin(pi4, 8)).toBe(14);
    expect(gpioForHeaderPin(pi4, 10)).toBe(15);
    expect(gpioForHeaderPin(pi4, 11)).toBe(17);
    expect(gpioForHeaderPin(pi4, 6)).toBeUndefined();
    expect(headerPinForGpio(pi4, 18)?.pin).toBe(12);
    expect(headerPinForGpio(pi4, 40)).toBeUndefined();
  });

  it('UARTs: uart0 is on GPIO14/15, reachable by name, device and alias', () => {
    for (const b of boards.values()) {
      const u = findUart(b, '/dev/serial0');
      expect(u?.name, b.id).toBe('uart0');
      expect([gpioForHeaderPin(b, u!.txPin), gpioForHeaderPin(b, u!.rxPin)]).toEqual([14, 15]);
      expect(findUart(b, 'uart0')).toBe(u);
    }
    expect(findUart(boards.get('raspberry-pi-5')!, 'uart1')?.enable).toBe('dtoverlay=uart1-pi5');
  });

  it('GPIO chip labels are ones discovery knows', () => {
    for (const b of boards.values()) {
      for (const l of b.gpioChip.labels) expect(KNOWN_SOC_GPIO_LABELS as readonly string[]).toContain(l);
    }
    expect(boards.get('raspberry-pi-5')!.gpioChip.labels).toEqual(['pinctrl-rp1']);
  });
});

describe('bad board files are rejected with path and fix', () => {
  const pi4 = boards.get('raspberry-pi-4b')!;
  it('a GPIO pin whose name does not match its number', () => {
    const header = pi4.header.map((p) => (p.pin === 11 ? { ...p, name: 'GPIO18' } : p));
    expect(() => validateBoard({ ...pi4, header })).toThrow(
      /header\[10\]\.name: pin 11 is GPIO 17 but named GPIO18\. Fix: name it GPIO17/,
    );
  });
  it('a GPIO on two pins, and a UART on a power pin', () => {
    const header = pi4.header.map((p) => (p.pin === 13 ? { ...p, gpio: 17, name: 'GPIO17' } : p));
    const uarts = [{ ...pi4.uarts[0]!, txPin: 6 }];
    try {
      validateBoard({ ...pi4, header, uarts });
      expect.unreachable();
    } catch (e) {
      const text = (e as ProfileError).describeAll();
      expect(text).toMatch(/header\[12\]\.gpio: GPIO 17 is also on pin 11/);
      expect(text).toMatch(/uarts\[0\]\.txPin: uart0 txPin is pin 6, which is not a GPIO/);
    }
  });
  it('YAML errors carry the line', () => {
    const text = 'id: x\nname: X\nsoc: S\ndocs: d\ngpioChip: { labels: [], lines: 8 }\n';
    expect(() => parseYamlWith(text, 'b.yaml', validateBoard)).toThrow(
      /^b\.yaml:5:\d+: gpioChip\.labels: .*Fix: use at least 1 item/,
    );
  });
});

describe('generated JSON Schema', () => {
  it('the committed schema/board-profile.schema.json is current (run `npm run schema -w @brana/hardware` if not)', () => {
    const committed = readFileSync(
      join(import.meta.dirname, '..', '..', BOARD_PROFILE_JSON_SCHEMA_PATH),
      'utf8',
    );
    expect(
      committed === renderBoardProfileJsonSchema(),
      'stale: run `npm run schema -w @brana/hardware`',
    ).toBe(true);
  });
});
