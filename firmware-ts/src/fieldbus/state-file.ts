// Persisted poller state: counter totals, open quarter-hour intervals and S0 pulse counts, so the
// last values survive a restart. One small JSON file, replaced atomically (write a temporary file,
// fsync, rename, fsync the folder): after a power cut it holds either the old or the new state,
// never half of each. Losing the last few seconds is harmless: meter registers are absolute, so
// the next reading books whatever happened since the saved one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FieldbusStateError } from './errors.ts';

const counterState = z.object({
  total: z.number(),
  lastValue: z.number(),
  lastRaw: z.number().nullable(),
  serial: z.string().optional(),
  atMs: z.number(),
});

const intervalState = z.object({
  startMs: z.number(),
  startTotal: z.number(),
  startQuality: z.enum(['complete', 'estimated', 'partial']),
  lastMs: z.number(),
  lastTotal: z.number(),
});

export const fieldbusStateSchema = z.object({
  version: z.literal(1),
  savedAtMs: z.number(),
  /** By channel `<device>.<point key>`. */
  counters: z.record(z.string(), counterState),
  intervals: z.record(z.string(), intervalState),
  /** By pulse input name. */
  pulses: z.record(z.string(), z.object({ count: z.int().nonnegative() })),
});
export type FieldbusState = z.infer<typeof fieldbusStateSchema>;

export function emptyState(): FieldbusState {
  return { version: 1, savedAtMs: 0, counters: {}, intervals: {}, pulses: {} };
}

/** Reads the state file; a missing file is an empty state. Throws `FieldbusStateError` if unreadable. */
export function loadStateFile(file: string): FieldbusState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new FieldbusStateError(
      file,
      `cannot read the state file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'check the permissions of the state folder (fieldbus.stateFile)',
      err,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FieldbusStateError(
      file,
      `not valid JSON (${(err as Error).message})`,
      'move the file aside; totals restart from the next meter readings',
      err,
    );
  }
  const parsed = fieldbusStateSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FieldbusStateError(
      file,
      `unexpected content at ${issue.path.join('.') || '(top)'}: ${issue.message}`,
      'move the file aside; totals restart from the next meter readings',
    );
  }
  return parsed.data;
}

/** Replaces the state file atomically. */
export function saveStateFile(file: string, state: FieldbusState): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // The rename itself is durable only once the folder entry is on disk.
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}
