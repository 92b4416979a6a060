// Checks of GPIO options shared by every backend, so each reports bad input the same way.
import { HalConfigError } from '../../errors.ts';
import type { DigitalInputOptions, DigitalOutputOptions, EdgeKind, Level } from './digital.ts';

const EDGE_KINDS: readonly EdgeKind[] = ['rising', 'falling', 'both'];

export function validateInputOptions(
  name: string,
  options: DigitalInputOptions,
): { edge: EdgeKind; debounceMs: number; activeLow: boolean } {
  const debounceMs = options.debounceMs ?? 0;
  if (!Number.isFinite(debounceMs) || debounceMs < 0 || debounceMs > 60_000) {
    throw new HalConfigError(
      `${name}.debounceMs`,
      `debounce must be between 0 and 60000 ms, got ${debounceMs}`,
      'use 0 for no debounce, a few ms for contacts, 20-50 ms for mechanical switches',
    );
  }
  const edge = options.edge ?? 'both';
  if (!EDGE_KINDS.includes(edge)) {
    throw new HalConfigError(
      `${name}.edge`,
      `unknown edge '${String(edge)}'`,
      "use 'rising', 'falling' or 'both'",
    );
  }
  return { edge, debounceMs, activeLow: options.activeLow ?? false };
}

export function validateOutputOptions(
  name: string,
  options: DigitalOutputOptions,
): { initial: Level; activeLow: boolean } {
  const initial = options.initial ?? 0;
  checkLevel(`${name}.initial`, initial);
  return { initial, activeLow: options.activeLow ?? false };
}

export function checkLevel(path: string, level: unknown): asserts level is Level {
  if (level !== 0 && level !== 1) {
    throw new HalConfigError(
      path,
      `a level is 0 or 1, got ${String(level)}`,
      'pass 0 (inactive) or 1 (active)',
    );
  }
}
