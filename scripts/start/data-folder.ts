// The data folder of `npm start`: where it is, a version stamp so a folder from another version is
// refused with a clear message instead of being misread, and a lock so two starts do not share it.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { StartError } from './errors.ts';

/** Bump when the layout or the meaning of files in the folder changes incompatibly. */
export const DATA_FORMAT = 1;
export const STAMP_FILE = 'brana-region.json';
export const LOCK_FILE = 'start.lock';

export interface DataStamp {
  format: number;
  software: string;
  createdAt: string;
}

export interface DataFolder {
  root: string;
  /** True when this start made the folder (first start: admin password, enrolment). */
  fresh: boolean;
  fleetDb: string;
  regionState: string;
  bench(rig: string): string;
  gateway(site: string): string;
  release(): void;
}

/** Folders only `npm start` makes; without a stamp beside them the folder is not ours. */
// (Rigs live in rigs/, not bench/, so that a `brana-bench up` with its default folder never meets them.)
const OWNED_ENTRIES = ['fleet', 'gateways', 'region', 'rigs'];

export function readStamp(root: string): DataStamp | null {
  const file = join(root, STAMP_FILE);
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new StartError(
      'DATA_FOLDER_VERSION',
      `data folder ${root}: ${STAMP_FILE} is not valid JSON. Fix: move the folder away, or start with --data <another folder>`,
    );
  }
  const s = parsed as Partial<DataStamp>;
  if (typeof s.format !== 'number') {
    throw new StartError(
      'DATA_FOLDER_VERSION',
      `data folder ${root}: ${STAMP_FILE} has no format number. Fix: move the folder away, or start with --data <another folder>`,
    );
  }
  return {
    format: s.format,
    software: String(s.software ?? 'unknown'),
    createdAt: String(s.createdAt ?? ''),
  };
}

/** Refuses a folder written by another data format, with what to do about it. */
export function checkStamp(root: string, stamp: DataStamp, format = DATA_FORMAT): void {
  if (stamp.format === format) return;
  const newer = stamp.format > format;
  throw new StartError(
    'DATA_FOLDER_VERSION',
    `data folder ${root} belongs to ${newer ? 'a newer' : 'an older'} version (${stamp.software}, data format ${stamp.format}; this is format ${format}). Fix: ${
      newer ? 'update this checkout' : 'move the folder away to start afresh'
    }, or start with --data <another folder>`,
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(root: string): () => void {
  const file = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartError(
          'DATA_FOLDER_UNUSABLE',
          `cannot write in data folder ${root} (${(err as NodeJS.ErrnoException).code}). Fix: choose a writable folder with --data`,
        );
      }
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new StartError(
          'DATA_FOLDER_IN_USE',
          `data folder ${root} is in use by another npm start (process ${pid}). Fix: stop that one (Ctrl-C), or start with --data <another folder>`,
        );
      }
      rmSync(file, { force: true }); // left by a start that was killed
    }
  }
  throw new StartError(
    'DATA_FOLDER_IN_USE',
    `data folder ${root}: cannot take ${LOCK_FILE}. Fix: remove it if no npm start is running`,
  );
}

export function openDataFolder(dir: string, software: string, now = new Date()): DataFolder {
  const root = resolve(dir);
  try {
    mkdirSync(root, { recursive: true });
  } catch (err) {
    throw new StartError(
      'DATA_FOLDER_UNUSABLE',
      `cannot create data folder ${root} (${(err as NodeJS.ErrnoException).code}). Fix: choose a writable folder with --data`,
    );
  }
  const stamp = readStamp(root);
  let fresh = false;
  if (stamp) {
    checkStamp(root, stamp);
  } else {
    const foreign = readdirSync(root).filter((e) => OWNED_ENTRIES.includes(e));
    if (foreign.length > 0) {
      throw new StartError(
        'DATA_FOLDER_VERSION',
        `data folder ${root} has ${foreign.join(', ')} but no ${STAMP_FILE}: it was made by an older version or another tool. Fix: move it away, or start with --data <another folder>`,
      );
    }
    fresh = true;
  }
  const release = takeLock(root);
  if (fresh) {
    const s: DataStamp = { format: DATA_FORMAT, software, createdAt: now.toISOString() };
    writeFileSync(join(root, STAMP_FILE), `${JSON.stringify(s, null, 2)}\n`);
  }
  for (const sub of OWNED_ENTRIES) mkdirSync(join(root, sub), { recursive: true });
  return {
    root,
    fresh,
    fleetDb: join(root, 'fleet', 'fleet.db'),
    regionState: join(root, 'region', 'state.json'),
    bench: (rig) => join(root, 'rigs', rig),
    gateway: (site) => join(root, 'gateways', site),
    release,
  };
}
