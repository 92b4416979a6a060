import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProfileError, type ProfileIssue } from '../errors.ts';
import { loadYamlFileWith, zodIssuesToProfileIssues } from '../profiles/index.ts';
import { boardProfileSchema, POWER_PIN_NAMES } from './schema.ts';
import type { BoardProfile, BoardUart, HeaderPin } from './types.ts';

/** The board profiles shipped with the package: hardware/boards. */
export const DEFAULT_BOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'boards');

const issue = (path: string, message: string, fix: string): ProfileIssue => ({ path, message, fix });

/** Consistency a schema cannot express: pins in order, GPIO names match numbers, UART pins exist. */
export function checkBoardInvariants(board: BoardProfile): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  const gpios = new Map<number, number>();
  board.header.forEach((p, i) => {
    const at = `header[${i}]`;
    if (p.pin !== i + 1)
      out.push(
        issue(`${at}.pin`, `entry ${i} is pin ${p.pin}, expected ${i + 1}`, 'list pins 1..40 in order'),
      );
    const isPower = (POWER_PIN_NAMES as readonly string[]).includes(p.name);
    if (p.gpio === undefined && !isPower && !/^ID_S[DC]$/.test(p.name)) {
      out.push(
        issue(
          `${at}.gpio`,
          `pin ${p.pin} (${p.name}) has no GPIO number`,
          'add gpio: <BCM number>, or name it 3V3, 5V or GND',
        ),
      );
    }
    if (p.gpio !== undefined) {
      if (p.name !== `GPIO${p.gpio}`)
        out.push(
          issue(`${at}.name`, `pin ${p.pin} is GPIO ${p.gpio} but named ${p.name}`, `name it GPIO${p.gpio}`),
        );
      if (p.gpio >= board.gpioChip.lines) {
        out.push(
          issue(
            `${at}.gpio`,
            `GPIO ${p.gpio} is beyond the chip's ${board.gpioChip.lines} lines`,
            'check gpioChip.lines',
          ),
        );
      }
      const other = gpios.get(p.gpio);
      if (other !== undefined)
        out.push(issue(`${at}.gpio`, `GPIO ${p.gpio} is also on pin ${other}`, 'each GPIO is on one pin'));
      gpios.set(p.gpio, p.pin);
    }
  });
  board.uarts.forEach((u, i) => {
    for (const [field, pin] of [
      ['txPin', u.txPin],
      ['rxPin', u.rxPin],
    ] as const) {
      if (board.header[pin - 1]?.gpio === undefined) {
        out.push(
          issue(
            `uarts[${i}].${field}`,
            `${u.name} ${field} is pin ${pin}, which is not a GPIO`,
            'use the header pin of the UART line',
          ),
        );
      }
    }
  });
  const names = board.uarts.map((u) => u.device);
  names.forEach((d, i) => {
    if (names.indexOf(d) !== i)
      out.push(issue(`uarts[${i}].device`, `${d} is listed twice`, 'give each UART its own device'));
  });
  return out;
}

/** Validates a board profile object; throws ProfileError listing every issue. */
export function validateBoard(data: unknown, file = '<board>'): BoardProfile {
  const result = boardProfileSchema.safeParse(data, { reportInput: true });
  if (!result.success)
    throw new ProfileError(file, zodIssuesToProfileIssues(result.error.issues), result.error);
  const issues = checkBoardInvariants(result.data);
  if (issues.length > 0) throw new ProfileError(file, issues);
  return result.data;
}

export function loadBoardFile(path: string): BoardProfile {
  return loadYamlFileWith(path, validateBoard);
}

/** Every board profile in `dir` by id; the file name must be <id>.yaml. */
export function loadBoards(dir = DEFAULT_BOARDS_DIR): ReadonlyMap<string, BoardProfile> {
  const out = new Map<string, BoardProfile>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.yaml') || name.startsWith('_')) continue;
    const file = join(dir, name);
    const board = loadBoardFile(file);
    if (`${board.id}.yaml` !== name) {
      throw new ProfileError(file, [
        issue('id', `board ${board.id} is in ${name}`, `rename the file to ${board.id}.yaml`),
      ]);
    }
    out.set(board.id, board);
  }
  return out;
}

/** The header pin carrying a BCM GPIO, or undefined if it is not on the header. */
export function headerPinForGpio(board: BoardProfile, gpio: number): HeaderPin | undefined {
  return board.header.find((p) => p.gpio === gpio);
}

/** The BCM GPIO on a header pin, or undefined for power and ID EEPROM pins. */
export function gpioForHeaderPin(board: BoardProfile, pin: number): number | undefined {
  return board.header[pin - 1]?.gpio;
}

/** A UART by name (uart0) or device path (/dev/ttyAMA0 or an alias such as /dev/serial0). */
export function findUart(board: BoardProfile, nameOrDevice: string): BoardUart | undefined {
  return board.uarts.find(
    (u) => u.name === nameOrDevice || u.device === nameOrDevice || u.aliases.includes(nameOrDevice),
  );
}
