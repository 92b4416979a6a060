// Staging a release: its signed manifest checked, only the files this gateway lacks fetched (by
// SHA-256: a file any installed release already has is linked, not downloaded), the new release
// directory assembled beside the running one, every file verified, and only then renamed into
// releases/<version>. Nothing that runs is touched: the `current` link moves later, in switch.ts.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  checkReleaseFiles,
  describeFileProblem,
  nodeSatisfies,
  type Platform,
  type ReleaseFile,
  type ReleaseManifest,
  type SignedManifest,
  verifySignedManifest,
} from '@brana/release';
import { UpdateRefusedError } from './errors.ts';
import { diskError, type ReleaseFetcher } from './fetch.ts';
import { type ReleasePaths, releaseDir } from './guard/disk.ts';

/** Room kept free on the release file system beyond what a release needs (journal, logs). */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

export interface StageOptions {
  paths: ReleasePaths;
  version: string;
  platform: Platform;
  trustedKeys: readonly string[];
  fetcher: ReleaseFetcher;
  /** Node.js version that will run it (default this one). */
  nodeVersion?: string;
  /** Schema version of the config the gateway runs, if any: the release must understand it. */
  configSchemaVersion?: number;
  /** Room kept free beyond what the release needs (default 64 MB: the journal and logs share the disk). */
  reserveBytes?: number;
  /** Fetches a file again after a failure within one attempt (default 2). */
  fileRetries?: number;
  progress?: (p: StageProgress) => void;
}

export type StageProgress =
  | { kind: 'manifest'; files: number; bytes: number; missingFiles: number; missingBytes: number }
  | { kind: 'file'; path: string; doneBytes: number; totalBytes: number };

export interface StageResult {
  manifest: ReleaseManifest;
  signed: SignedManifest;
  fetchedFiles: number;
  fetchedBytes: number;
  reusedFiles: number;
  alreadyStaged: boolean;
}

/** The store of downloaded files, named by hash; emptied as releases take them in. */
export function storeDir(paths: ReleasePaths): string {
  return join(paths.root, 'store');
}

/** Signature, platform, Node.js and config schema: the checks made before anything is fetched. */
export function checkManifest(
  text: string,
  o: Pick<StageOptions, 'version' | 'platform' | 'trustedKeys' | 'nodeVersion' | 'configSchemaVersion'>,
): { manifest: ReleaseManifest; signed: SignedManifest } {
  const v = verifySignedManifest(text, o.trustedKeys);
  if (!v.ok) {
    const reason =
      v.reason === 'bad-signature'
        ? 'bad-signature'
        : v.reason === 'unknown-key'
          ? 'unknown-key'
          : 'malformed-manifest';
    throw new UpdateRefusedError(reason, `manifest of ${o.version}: ${v.where}: ${v.message}`);
  }
  const m = v.manifest;
  if (m.version !== o.version) {
    throw new UpdateRefusedError(
      'malformed-manifest',
      `asked for release ${o.version}, the server sent the manifest of ${m.version}`,
    );
  }
  if (m.platform !== o.platform) {
    throw new UpdateRefusedError(
      'wrong-platform',
      `release ${m.version} is built for ${m.platform}; this gateway is ${o.platform}`,
    );
  }
  const node = o.nodeVersion ?? process.version;
  if (!nodeSatisfies(node, m.node)) {
    throw new UpdateRefusedError(
      'node-incompatible',
      `release ${m.version} needs Node.js ${m.node}; this gateway has ${node}`,
    );
  }
  const schema = o.configSchemaVersion;
  if (schema !== undefined && (schema < m.configSchema.min || schema > m.configSchema.max)) {
    throw new UpdateRefusedError(
      'config-incompatible',
      `release ${m.version} reads config schema ${m.configSchema.min}-${m.configSchema.max}; this gateway's config is schema ${schema}: roll out a config it understands first`,
    );
  }
  return { manifest: m, signed: v.signed };
}

/** Where this gateway already has each file: sha256 → a path on disk (installed releases, the store). */
function localFiles(
  paths: ReleasePaths,
  manifestOf: (dir: string) => ReleaseManifest | undefined,
): Map<string, string> {
  const have = new Map<string, string>();
  const store = storeDir(paths);
  if (existsSync(store)) {
    for (const name of readdirSync(store)) if (/^[0-9a-f]{64}$/.test(name)) have.set(name, join(store, name));
  }
  if (existsSync(paths.releases)) {
    for (const v of readdirSync(paths.releases)) {
      if (v.startsWith('.')) continue;
      const dir = join(paths.releases, v);
      const m = manifestOf(dir);
      for (const f of m?.files ?? [])
        if (!have.has(f.sha256)) have.set(f.sha256, join(dir, ...f.path.split('/')));
    }
  }
  return have;
}

/** The manifest an installed release carries (trusted: it was verified when installed). */
function installedManifest(dir: string): ReleaseManifest | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SignedManifest).manifest;
  } catch {
    return undefined;
  }
}

export async function stageRelease(o: StageOptions): Promise<StageResult> {
  const { paths, version } = o;
  const finalDir = releaseDir(paths, version);
  const manifestText = await o.fetcher.manifest(version, o.platform);
  const { manifest, signed } = checkManifest(manifestText, o);

  if (existsSync(join(finalDir, 'manifest.json'))) {
    // Staged before (an earlier attempt got this far): good if it still is exactly this release.
    const problems = await checkReleaseFiles(finalDir, manifest);
    if (problems.length === 0 && readFileSync(join(finalDir, 'manifest.json'), 'utf8') === manifestText) {
      return {
        manifest,
        signed,
        fetchedFiles: 0,
        fetchedBytes: 0,
        reusedFiles: manifest.files.length,
        alreadyStaged: true,
      };
    }
    rmSync(finalDir, { recursive: true, force: true });
  }

  const have = localFiles(paths, installedManifest);
  const unique = new Map<string, ReleaseFile>();
  for (const f of manifest.files) if (!unique.has(f.sha256)) unique.set(f.sha256, f);
  const missing = [...unique.values()].filter((f) => !have.has(f.sha256));
  const missingBytes = missing.reduce((n, f) => n + f.size, 0);
  o.progress?.({
    kind: 'manifest',
    files: manifest.files.length,
    bytes: manifest.files.reduce((n, f) => n + f.size, 0),
    missingFiles: missing.length,
    missingBytes,
  });

  const store = storeDir(paths);
  mkdirSync(store, { recursive: true });
  mkdirSync(paths.releases, { recursive: true });
  checkFreeSpace(paths.root, missingBytes, o.reserveBytes ?? DISK_MARGIN_BYTES);

  let doneBytes = 0;
  let fetchedFiles = 0;
  for (const f of missing) {
    const dest = join(store, f.sha256);
    await fetchWithRetries(o, f, dest, (n) => {
      doneBytes += n;
      o.progress?.({ kind: 'file', path: f.path, doneBytes, totalBytes: missingBytes });
    });
    chmodSync(dest, 0o444);
    have.set(f.sha256, dest);
    fetchedFiles++;
  }

  // Assemble beside the running release; a crash here leaves only a .incoming directory.
  const incoming = join(paths.releases, `.incoming-${version}`);
  rmSync(incoming, { recursive: true, force: true });
  try {
    for (const f of manifest.files) placeFile(have.get(f.sha256)!, join(incoming, ...f.path.split('/')));
    writeFileSync(join(incoming, 'manifest.json'), manifestText, { mode: 0o444 });
    let problems = await checkReleaseFiles(incoming, manifest);
    // A file taken from an installed release that no longer matches its hash (damaged on the
    // card): fetch it from the server instead, once.
    const damaged = problems.filter((p) => p.kind === 'hash' || p.kind === 'size');
    if (damaged.length > 0 && damaged.length === problems.length) {
      for (const p of damaged) {
        const f = manifest.files.find((x) => x.path === p.path)!;
        const dest = join(store, f.sha256);
        rmSync(dest, { force: true });
        await fetchWithRetries(o, f, dest, () => {});
        const target = join(incoming, ...f.path.split('/'));
        rmSync(target, { force: true });
        placeFile(dest, target);
        fetchedFiles++;
        doneBytes += f.size;
      }
      problems = await checkReleaseFiles(incoming, manifest);
    }
    if (problems.length > 0) {
      throw new UpdateRefusedError(
        'tampered-file',
        `release ${version} does not match its manifest after assembly: ${problems.slice(0, 3).map(describeFileProblem).join('; ')}`,
      );
    }
    renameSync(incoming, finalDir);
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    throw diskError(err as NodeJS.ErrnoException, incoming);
  }
  // The store's copies now live in the release (hard links): drop the store's names.
  for (const f of missing) rmSync(join(store, f.sha256), { force: true });
  return {
    manifest,
    signed,
    fetchedFiles,
    fetchedBytes: doneBytes,
    reusedFiles: manifest.files.length - fetchedFiles,
    alreadyStaged: false,
  };
}

/** A hard link where it can (same file system, no copy), a read-only copy where it cannot. */
function placeFile(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV' && (err as NodeJS.ErrnoException).code !== 'EPERM')
      throw err;
    copyFileSync(from, to);
    chmodSync(to, 0o444);
  }
}

function checkFreeSpace(dir: string, neededBytes: number, reserveBytes: number): void {
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  if (free < neededBytes + reserveBytes) {
    const mb = (n: number) => `${Math.ceil(n / 1024 / 1024)} MB`;
    throw new UpdateRefusedError(
      'disk-full',
      `the release needs ${mb(neededBytes)} (+${mb(reserveBytes)} kept free) on ${dir}, which has ${mb(free)} free; remove old releases or logs`,
    );
  }
}

/** A file fetched with a couple of quick retries (a dropped connection resumes where it stopped). */
async function fetchWithRetries(
  o: StageOptions,
  f: ReleaseFile,
  dest: string,
  onBytes: (n: number) => void,
): Promise<void> {
  const retries = o.fileRetries ?? 2;
  let mismatches = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      await o.fetcher.file(f.sha256, f.size, dest, onBytes);
      return;
    } catch (err) {
      // One wrong body may be a broken proxy; the same wrong body twice is what the server has.
      if (err instanceof UpdateRefusedError && err.reason === 'tampered-file' && mismatches++ === 0) continue;
      if (err instanceof UpdateRefusedError || attempt >= retries) throw withPath(err, f);
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

function withPath(err: unknown, f: ReleaseFile): unknown {
  if (err instanceof Error && !err.message.includes(f.path)) err.message = `${f.path}: ${err.message}`;
  return err;
}
