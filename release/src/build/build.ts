// `brana-release build`: a release directory from the checkout. Everything is assembled in
// <out>.partial and renamed to <out> at the end, so a failed build never leaves something that
// looks like a release.
import { spawnSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_SCHEMA_VERSION } from '@brana/firmware';
import { BuildError, UsageError } from '../errors.ts';
import { digestFile, listFiles } from '../manifest/files.ts';
import {
  manifestText,
  type ReleaseManifest,
  releaseManifestSchema,
  releaseVersionSchema,
  type SignedManifest,
  signManifest,
} from '../manifest/manifest.ts';
import { nodeRangeFromEngines, nodeSatisfies } from '../manifest/node-range.ts';
import { hostPlatform, type Platform } from '../manifest/platform.ts';
import { type BundleResult, bundle } from './bundle.ts';
import { BUNDLES, DATA, NODE_RED_NODES, RUNTIME_MODULES, UNIT_DIRS, UNIT_FILE } from './contents.ts';
import { listFilesUnder, planDependencies } from './dependencies.ts';
import { checkUnits, type UnitFile } from './units.ts';

export const UNSIGNED_MANIFEST = 'manifest.unsigned.json';

export interface BuildOptions {
  /** The checkout's root. */
  root: string;
  version: string;
  platform: Platform;
  out: string;
  /** Sign right away (otherwise `brana-release sign` later, on the machine holding the key). */
  key?: KeyObject;
  nativeFrom?: string;
  /** Progress lines for a person watching. */
  progress?: (line: string) => void;
  /** Fixed creation time (reproducible test builds). */
  createdAt?: string;
}

export interface BuildResult {
  dir: string;
  manifest: ReleaseManifest;
  signed: SignedManifest | undefined;
  bundles: BundleResult[];
  skipped: { name: string; why: string }[];
  notes: string[];
  totalBytes: number;
}

export async function buildRelease(o: BuildOptions): Promise<BuildResult> {
  const root = resolve(o.root);
  const out = resolve(o.out);
  const progress = o.progress ?? (() => {});
  const version = releaseVersionSchema.safeParse(o.version);
  if (!version.success) {
    throw new UsageError(
      `version "${o.version}": ${version.error.issues[0]?.message}`,
      'pass --version 1.4.0',
    );
  }
  if (existsSync(out)) throw new UsageError(`${out} already exists`, 'choose another --out or remove it');
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    workspaces?: string[];
    engines?: { node?: string };
  };
  if (!rootPkg.workspaces?.includes('gateway')) {
    throw new BuildError(
      `${root} is not a Brána checkout (no gateway workspace)`,
      'run from the repository root or pass --root',
    );
  }
  const node = nodeRangeFromEngines(rootPkg.engines?.node ?? '');
  if (node === undefined) {
    throw new BuildError(
      `package.json engines.node "${rootPkg.engines?.node}" is not ">=X.Y"`,
      'set engines.node to e.g. ">=20.19"',
    );
  }
  const notes: string[] = [];
  if (o.platform === hostPlatform() && !nodeSatisfies(process.version, node)) {
    throw new BuildError(
      `this Node ${process.version} is outside the release's range ${node}; native modules compiled by it would not load on the gateway`,
      `build with a Node.js in ${node}`,
    );
  }

  const stage = `${out}.partial`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    // Run-time modules first: a platform the checkout cannot build for fails here, in a second.
    const deps = planDependencies({
      root,
      platform: o.platform,
      roots: RUNTIME_MODULES.map((m) => ({ name: m.name, from: join(root, m.from) })),
      ...(o.nativeFrom ? { nativeFrom: resolve(o.nativeFrom) } : {}),
    });

    // 1. The Node-RED nodes' own build (their runtime files are built JavaScript too).
    const flowsPkgFile = join(root, NODE_RED_NODES.workspace, 'package.json');
    const flowsPkg = existsSync(flowsPkgFile)
      ? (JSON.parse(readFileSync(flowsPkgFile, 'utf8')) as {
          name: string;
          scripts?: Record<string, string>;
          'node-red'?: unknown;
        })
      : undefined;
    if (flowsPkg?.scripts?.build) {
      progress(`building ${flowsPkg.name}`);
      const r = spawnSync('npm', ['run', 'build', '-w', flowsPkg.name], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) {
        throw new BuildError(
          `npm run build -w ${flowsPkg.name} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`,
          'fix the flows build',
        );
      }
    }

    // 2. Bundles.
    const bundles: BundleResult[] = [];
    for (const spec of BUNDLES) {
      progress(`bundling ${spec.entry}`);
      bundles.push(await bundle(root, stage, spec));
      for (const a of spec.assets) {
        const from = join(root, a.from);
        if (!existsSync(from)) {
          if (a.optional) {
            notes.push(`${a.from} does not exist in this checkout: nothing copied to ${a.to}`);
            continue;
          }
          throw new BuildError(`${a.from} is missing`, 'check out a complete tree');
        }
        copyTree(from, join(stage, a.to));
      }
    }

    // 3. Data the code reads next to itself.
    for (const d of DATA) copyTree(join(root, d.from), join(stage, d.to));

    // 4. Production dependencies for the platform (planned first, see above).
    progress(`copying run-time modules for ${o.platform}`);
    for (const p of deps.packages) {
      for (const rel of listFilesUnder(p.from)) {
        if (!p.keep(rel)) continue;
        const dest = join(stage, p.to, rel);
        mkdirSync(dirname(dest), { recursive: true });
        copyFileSync(p.replacements.get(rel) ?? join(p.from, rel), dest);
      }
    }
    if (flowsPkg?.['node-red'] !== undefined) {
      const to = join(stage, 'node_modules', flowsPkg.name);
      for (const f of NODE_RED_NODES.files) {
        const from = join(root, NODE_RED_NODES.workspace, f);
        if (existsSync(from)) copyTree(from, join(to, f));
      }
    } else {
      notes.push(
        `${NODE_RED_NODES.workspace}/package.json has no "node-red" section yet: the Brána Node-RED nodes are not in this release`,
      );
    }

    // 5. Unit files, checked against what the release holds.
    const units: UnitFile[] = [];
    for (const d of UNIT_DIRS) {
      const dir = join(root, d);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)
        .filter((n) => UNIT_FILE.test(n))
        .sort()) {
        const text = readFileSync(join(dir, name), 'utf8');
        if (units.some((u) => u.name === name))
          throw new BuildError(`unit ${name} is in two folders`, `keep one of ${UNIT_DIRS.join(', ')}`);
        units.push({ name, text });
        mkdirSync(join(stage, 'systemd'), { recursive: true });
        writeFileSync(join(stage, 'systemd', name), text);
      }
    }

    // 6. The manifest.
    progress('hashing files');
    const paths = await listFiles(stage);
    const problems = checkUnits(units, new Set(paths));
    if (problems.length > 0) {
      throw new BuildError(
        `unit files: ${problems.join('; ')}`,
        'make the units start the release with /usr/bin/node',
      );
    }
    const files: ReleaseManifest['files'] = [];
    let totalBytes = 0;
    for (const path of paths) {
      const d = await digestFile(join(stage, path), statSync(join(stage, path)).size);
      files.push({ path, size: d.size, sha256: d.sha256 });
      totalBytes += d.size;
    }
    const entry = (name: string) => BUNDLES.find((b) => b.name === name)!.out;
    const manifest = releaseManifestSchema.parse({
      version: o.version,
      platform: o.platform,
      node,
      configSchema: { min: CONFIG_SCHEMA_VERSION, max: CONFIG_SCHEMA_VERSION },
      createdAt: o.createdAt ?? new Date().toISOString(),
      source: gitSource(root),
      entrypoints: { firmware: entry('firmware'), gateway: entry('gateway'), guard: entry('guard') },
      files,
    } satisfies ReleaseManifest);
    let signed: SignedManifest | undefined;
    if (o.key) {
      signed = signManifest(manifest, o.key);
      writeFileSync(join(stage, 'manifest.json'), manifestText(signed));
    } else {
      writeFileSync(join(stage, UNSIGNED_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    }
    renameSync(stage, out);
    return { dir: out, manifest, signed, bundles, skipped: deps.skipped, notes, totalBytes };
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  }
}

function copyTree(from: string, to: string): void {
  const st = existsSync(from) ? readdirSyncSafe(from) : undefined;
  if (st === undefined) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    return;
  }
  for (const rel of listFilesUnder(from)) {
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(join(from, rel), join(to, rel));
  }
}

function readdirSyncSafe(p: string): string[] | undefined {
  try {
    return readdirSync(p);
  } catch {
    return undefined;
  }
}

function gitSource(root: string): { commit: string; dirty: boolean } {
  const head = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return { commit: 'unknown', dirty: true };
  const status = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
    encoding: 'utf8',
  });
  return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}
