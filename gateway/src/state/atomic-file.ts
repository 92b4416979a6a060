// Atomic, private file writes for keys and state: write a temp file with mode 0600, fsync it,
// rename over the target, fsync the directory. A power cut leaves either the old or the new file,
// never a torn one, and never a key readable by other users.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateFileError } from '../errors.ts';

export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Reads a text state file; undefined when it does not exist, StateFileError when it is unreadable. */
export function readTextFile(path: string, what: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(
      path,
      `cannot read the ${what} (${(err as Error).message})`,
      'check the file permissions',
      err,
    );
  }
}

/** Reads a JSON state file; undefined when it does not exist, StateFileError when it is unreadable. */
export function readJsonFile<T>(path: string, what: string): T | undefined {
  const text = readTextFile(path, what);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StateFileError(
      path,
      `the ${what} is not valid JSON (${(err as Error).message})`,
      'restore it from a backup, or remove it and enrol the gateway again',
      err,
    );
  }
}
