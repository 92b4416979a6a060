// A release directory against its manifest: every listed file present with its size and SHA-256,
// nothing else there. Used by `brana-release verify` and by the gateway before it switches.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ReleaseFile, ReleaseManifest } from './manifest.ts';

export interface FileDigest {
  size: number;
  sha256: string;
}

/** Size and SHA-256 of a file, read as a stream (release files reach tens of megabytes). */
export async function digestFile(path: string, knownSize?: number): Promise<FileDigest> {
  // Most release files are small: one read beats a stream's per-chunk overhead (8,000+ files).
  if (knownSize !== undefined && knownSize <= 1024 * 1024) {
    const b = await readFile(path);
    return { size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    const b = chunk as Buffer;
    size += b.length;
    hash.update(b);
  }
  return { size, sha256: hash.digest('hex') };
}

export type FileProblem =
  | { kind: 'missing'; path: string }
  | { kind: 'size'; path: string; expected: number; actual: number }
  | { kind: 'hash'; path: string; expected: string; actual: string }
  | { kind: 'unlisted'; path: string };

export function describeFileProblem(p: FileProblem): string {
  switch (p.kind) {
    case 'missing':
      return `${p.path}: missing`;
    case 'size':
      return `${p.path}: ${p.actual} bytes, the manifest says ${p.expected}`;
    case 'hash':
      return `${p.path}: SHA-256 ${p.actual.slice(0, 12)}…, the manifest says ${p.expected.slice(0, 12)}…`;
    case 'unlisted':
      return `${p.path}: not in the manifest`;
  }
}

/** Every regular file and symlink under `dir`, as release paths ("a/b/c"). */
export async function listFiles(
  dir: string,
  ignore: (path: string) => boolean = () => false,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (ignore(rel)) continue;
      if (entry.isDirectory()) await walk(full);
      else out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Checks `dir` against the manifest's files. `extra` lists paths that may be present beside them
 * (manifest.json). Stops hashing after `maxProblems`.
 */
export async function checkReleaseFiles(
  dir: string,
  manifest: Pick<ReleaseManifest, 'files'>,
  options: { extra?: readonly string[]; maxProblems?: number; onFile?: (f: ReleaseFile) => void } = {},
): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  const max = options.maxProblems ?? 50;
  const listed = new Set(manifest.files.map((f) => f.path));
  const extra = new Set(options.extra ?? ['manifest.json']);
  for (const path of await listFiles(dir)) {
    if (!listed.has(path) && !extra.has(path)) problems.push({ kind: 'unlisted', path });
  }
  for (const f of manifest.files) {
    if (problems.length >= max) break;
    const full = join(dir, ...f.path.split('/'));
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(full);
    } catch {
      problems.push({ kind: 'missing', path: f.path });
      continue;
    }
    if (!st.isFile()) {
      problems.push({ kind: 'missing', path: f.path });
      continue;
    }
    if (st.size !== f.size) {
      problems.push({ kind: 'size', path: f.path, expected: f.size, actual: st.size });
      continue;
    }
    const d = await digestFile(full, st.size);
    if (d.sha256 !== f.sha256)
      problems.push({ kind: 'hash', path: f.path, expected: f.sha256, actual: d.sha256 });
    options.onFile?.(f);
  }
  return problems.slice(0, max);
}
