import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FieldbusStateError } from './errors.ts';
import { emptyState, loadStateFile, saveStateFile } from './state-file.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'brana-fieldbus-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('state file', () => {
  it('a missing file is an empty state; a saved state loads back equal, leaving no temporary file', () => {
    const dir = tempDir();
    const file = join(dir, 'fieldbus-state.json');
    expect(loadStateFile(file)).toEqual(emptyState());
    const state = {
      ...emptyState(),
      savedAtMs: 1_780_000_000_000,
      counters: {
        'sdm630.energyImportKWh': { total: 1234.5, lastValue: 34.5, lastRaw: null, serial: 'A1', atMs: 17 },
      },
      intervals: {
        'sdm630.energyImportKWh': {
          startMs: 900_000,
          startTotal: 1,
          startQuality: 'partial' as const,
          lastMs: 900_001,
          lastTotal: 2,
        },
      },
      pulses: { 'water-main': { count: 42 } },
    };
    saveStateFile(file, state);
    saveStateFile(file, state);
    expect(loadStateFile(file)).toEqual(state);
    expect(readdirSync(dir)).toEqual(['fieldbus-state.json']);
  });

  it('a damaged file is refused with the file name, the place and what to do', () => {
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, '{"version":1,');
    expect(() => loadStateFile(file)).toThrow(FieldbusStateError);
    expect(() => loadStateFile(file)).toThrow(/state\.json: not valid JSON.*Fix: move the file aside/);
    writeFileSync(file, JSON.stringify({ ...emptyState(), pulses: { a: { count: -1 } } }));
    expect(() => loadStateFile(file)).toThrow(/at pulses\.a\.count/);
  });
});
