// The on-disk layout of installed releases and the two operations everything else rests on: an
// atomic file write and an atomic switch of the `current` link. Node built-ins only: the update
// guard is built from this folder into plain JavaScript that needs nothing else.
//
//   <root>/current              symlink → releases/<version> (what the units start)
//   <root>/releases/<version>/  one complete, verified release per directory
//   <root>/guard/               the guard installed from the last committed release
//   <root>/update/              switch record, start and boot counts, the guard's verdict, state
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ReleasePaths {
  root: string;
  current: string;
  releases: string;
  guardDir: string;
  updateDir: string;
  /** Exists only while a switch is unresolved: its removal is the commit. */
  switchRecord: string;
  /** One line per start of the agent unit since the switch ("<unit> <ms> <boot id>"). */
  starts: string;
  /** One line per boot counted during the trial (its boot id). */
  boots: string;
  /** Why the guard switched back. */
  verdict: string;
  /** The agent's updater state. */
  state: string;
}

export function releasePaths(root: string): ReleasePaths {
  const updateDir = join(root, 'update');
  return {
    root,
    current: join(root, 'current'),
    releases: join(root, 'releases'),
    guardDir: join(root, 'guard'),
    updateDir,
    switchRecord: join(updateDir, 'switch.json'),
    starts: join(updateDir, 'starts'),
    boots: join(updateDir, 'boots'),
    verdict: join(updateDir, 'guard-verdict.json'),
    state: join(updateDir, 'state.json'),
  };
}

export function releaseDir(paths: ReleasePaths, version: string): string {
  return join(paths.releases, version);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Temp file, fsync, rename, fsync the directory: a power cut leaves the old or the new file. */
export function writeAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Appends one line and syncs it (a start or a boot must be counted even if power goes next). */
export function appendLine(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${line}\n`);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
  } catch {
    return [];
  }
}

/** Parsed JSON, undefined when the file is missing; a torn or foreign file counts as missing too. */
export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
  if (existsSync(dirname(path))) fsyncDir(dirname(path));
}

/** The version `current` points at, or undefined when the link is missing or not ours. */
export function currentVersion(paths: ReleasePaths): string | undefined {
  let target: string;
  try {
    target = readlinkSync(paths.current);
  } catch {
    return undefined;
  }
  const m = /^releases\/([^/]+)\/?$/.exec(target);
  return m ? m[1] : undefined;
}

/**
 * Points `current` at releases/<version>: a new symlink under a temporary name renamed over the
 * old one. rename(2) replaces the link in one step, so at every instant `current` names either the
 * old or the new release, whatever happens to power.
 */
export function switchCurrent(paths: ReleasePaths, version: string): void {
  if (!existsSync(join(releaseDir(paths, version), 'manifest.json'))) {
    throw new Error(`release ${version} is not installed under ${paths.releases}`);
  }
  const tmp = join(paths.root, `.${basename(paths.current)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(`releases/${version}`, tmp);
  renameSync(tmp, paths.current);
  fsyncDir(paths.root);
}
