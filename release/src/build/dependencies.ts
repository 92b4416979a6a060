// The production node_modules of a release: the packages the bundles leave to run-time resolution
// (native modules, Node-RED, modules the firmware loads lazily) and everything they depend on,
// copied from the checkout's installed tree (the versions package-lock.json pinned) at the same
// relative paths, so Node's own resolution finds them in the release exactly as in the checkout.
//
// Platform: packages whose package.json names other os/cpu values are left out (they are the
// optional per-platform binaries of another platform); prebuilt binaries of other platforms are
// pruned; every .node file kept must be an ELF object for the target. A module compiled on install
// (binding.gyp, build/Release/*.node) is compiled for the machine that ran `npm ci`: for another
// platform its binary comes from `nativeFrom` (a node_modules built on, or cross-compiled for, the
// target) or the build stops and says so.
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BuildError } from '../errors.ts';
import { elfPlatform, type Platform } from '../manifest/platform.ts';

/** Packages needed only to install or compile others: never part of a running gateway. */
const INSTALL_ONLY = new Set([
  'nan',
  'prebuild-install',
  'node-addon-api',
  'node-gyp',
  'node-gyp-build-optional-packages',
]);

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
}

export interface CopyPlanEntry {
  /** Package name. */
  name: string;
  version: string;
  /** Absolute directory in the checkout. */
  from: string;
  /** Release path of the package directory ("node_modules/a/node_modules/b"). */
  to: string;
  /** Compiled on install (binding.gyp): its build/Release binary must be for the target. */
  compiled: boolean;
  /** File filter: true keeps the file (path relative to the package directory). */
  keep: (relPath: string) => boolean;
  /** Release path → absolute file taken from elsewhere than `from` (native binaries for the target). */
  replacements: Map<string, string>;
}

export interface DependencyPlan {
  packages: CopyPlanEntry[];
  /** Optional packages of other platforms, and optional ones missing from the checkout. */
  skipped: { name: string; why: string }[];
}

export interface DependencyOptions {
  /** The checkout's root (its node_modules is the source). */
  root: string;
  platform: Platform;
  /** Root packages and the workspace directory each is resolved from. */
  roots: { name: string; from: string }[];
  /** A node_modules folder holding target-platform builds of compiled modules. */
  nativeFrom?: string;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: <dir>/node_modules/<name>, then each parent's. */
function resolvePackageDir(name: string, fromDir: string, stopAt: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === stopAt || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

function matchesPlatform(pkg: PackageJson, platform: Platform): boolean {
  const [os, cpu] = platform.split('-') as [string, string];
  const allowed = (list: string[] | undefined, value: string) =>
    list === undefined ||
    (list.some((x) => !x.startsWith('!')) ? list.includes(value) : !list.includes(`!${value}`));
  return allowed(pkg.os, os) && allowed(pkg.cpu, cpu);
}

export function planDependencies(options: DependencyOptions): DependencyPlan {
  const o = { ...options, root: resolve(options.root) };
  const rootModules = join(o.root, 'node_modules');
  const byDir = new Map<string, CopyPlanEntry>();
  const skipped: DependencyPlan['skipped'] = [];
  const queue: { name: string; from: string; optional: boolean; wantedBy: string }[] = o.roots.map((r) => ({
    ...r,
    optional: false,
    wantedBy: '(release)',
  }));
  while (queue.length > 0) {
    const { name, from, optional, wantedBy } = queue.shift()!;
    // Type declarations are for the compiler; nothing loads them at run time.
    if (INSTALL_ONLY.has(name) || name.startsWith('@types/')) continue;
    const dir = resolvePackageDir(name, from, o.root);
    if (dir === undefined) {
      if (optional) {
        skipped.push({ name, why: `optional dependency of ${wantedBy}, not installed in this checkout` });
        continue;
      }
      throw new BuildError(
        `${name} (needed by ${wantedBy}) is not installed in ${rootModules}`,
        'run npm ci in the checkout first',
      );
    }
    if (byDir.has(dir)) continue;
    const real = realpathSync(dir);
    if (!real.startsWith(rootModules + sep)) {
      throw new BuildError(
        `${name} (needed by ${wantedBy}) resolves to ${real}, outside ${rootModules} (a workspace link?)`,
        'bundle workspace packages instead of listing them as run-time modules',
      );
    }
    const pkg = readPackageJson(dir);
    if (!matchesPlatform(pkg, o.platform)) {
      if (!optional) {
        throw new BuildError(
          `${name} (needed by ${wantedBy}) is for os ${pkg.os ?? 'any'} / cpu ${pkg.cpu ?? 'any'}, not ${o.platform}`,
          'check the dependency; only optional per-platform packages can be left out',
        );
      }
      skipped.push({
        name,
        why: `for ${[pkg.os, pkg.cpu].flat().filter(Boolean).join('/')}, not ${o.platform}`,
      });
      continue;
    }
    const to = relative(o.root, dir).split(sep).join('/');
    const compiled = existsSync(join(dir, 'binding.gyp'));
    byDir.set(dir, {
      name,
      version: pkg.version ?? '0.0.0',
      from: dir,
      to,
      compiled,
      keep: keepFilter(compiled, o.platform),
      replacements: new Map(),
    });
    for (const [dep, optionalDep] of [
      ...Object.keys(pkg.dependencies ?? {}).map((d) => [d, false] as const),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((d) => [d, true] as const),
    ]) {
      queue.push({ name: dep, from: dir, optional: optionalDep, wantedBy: `${name}@${pkg.version}` });
    }
  }
  const packages = [...byDir.values()].sort((a, b) => a.to.localeCompare(b.to));
  for (const p of packages) checkNative(p, o);
  return { packages, skipped };
}

/** What of a package a running gateway needs. */
function keepFilter(compiled: boolean, platform: Platform): (rel: string) => boolean {
  return (rel) => {
    const parts = rel.split('/');
    if (parts.includes('.bin') || parts.includes('.github')) return false;
    // Prebuilt binaries: only the target's folder.
    if (parts[0] === 'prebuilds' && parts.length > 1 && parts[1] !== platform) return false;
    if (!compiled) return true;
    // A module compiled on install: its JavaScript and the one binary; not its C sources, the
    // vendored library it was built from, the object files, tests or examples.
    if (parts[0] === 'build') return parts[1] === 'Release' && parts.length === 3 && rel.endsWith('.node');
    if (['deps', 'src', 'test', 'tests', 'example', 'examples', 'integration-test'].includes(parts[0]!)) {
      return false;
    }
    return !/\.(c|cc|cpp|h|hpp|gyp|gypi|mk|o|a)$/.test(rel) && parts.at(-1) !== 'Makefile';
  };
}

/** Every native binary kept must be for the target; compiled ones come from nativeFrom when not. */
function checkNative(p: CopyPlanEntry, o: DependencyOptions): void {
  const binaries = listFilesUnder(p.from).filter((rel) => rel.endsWith('.node') && p.keep(rel));
  for (const rel of binaries) {
    const verdict = elfPlatform(readHead(join(p.from, rel)));
    if (verdict.kind === 'platform' && verdict.platform === o.platform) continue;
    // A test binary (better-sqlite3's test_extension.node) is not loaded by anything at run time.
    if (p.compiled && rel.startsWith('build/Release/') && o.nativeFrom !== undefined) {
      const alt = join(o.nativeFrom, relative(join(o.root, 'node_modules'), p.from), rel);
      if (existsSync(alt)) {
        const altVerdict = elfPlatform(readHead(alt));
        if (altVerdict.kind === 'platform' && altVerdict.platform === o.platform) {
          p.replacements.set(rel, alt);
          continue;
        }
        throw new BuildError(
          `${alt} is not a ${o.platform} binary (${describe(altVerdict)})`,
          `build ${p.name}@${p.version} for ${o.platform} (see release/README.md, "Native modules")`,
        );
      }
    }
    if (p.compiled && rel.startsWith('build/Release/')) {
      throw new BuildError(
        `${p.to}/${rel} was compiled for ${describe(verdict)}, not ${o.platform}`,
        o.nativeFrom === undefined
          ? `pass --native-from <node_modules built on or for ${o.platform}> (see release/README.md, "Native modules")`
          : `put a ${o.platform} build of ${p.name}@${p.version} at ${join(o.nativeFrom, relative(join(o.root, 'node_modules'), p.from), rel)}`,
      );
    }
    throw new BuildError(
      `${p.to}/${rel} is ${describe(verdict)}, not a ${o.platform} binary`,
      `reinstall ${p.name}@${p.version} or report the package`,
    );
  }
  if (
    p.compiled &&
    !binaries.some((b) => b.startsWith('build/Release/')) &&
    !binaries.some((b) => b.startsWith('prebuilds/'))
  ) {
    throw new BuildError(
      `${p.to} has no binary for ${o.platform} (no build/Release/*.node, no prebuilds/${o.platform})`,
      `rebuild it (npm rebuild ${p.name}) or pass --native-from`,
    );
  }
}

function describe(v: ReturnType<typeof elfPlatform>): string {
  return v.kind === 'platform' ? v.platform : v.kind === 'other' ? v.detail : 'not an ELF binary';
}

function readHead(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const n = readSync(fd, head, 0, 20, 0);
    return head.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Files under a directory (relative, "/"-separated), not following symlinked directories. */
export function listFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) {
        // Nested node_modules are packages of their own, planned separately.
        if (e.name === 'node_modules') continue;
        walk(join(d, e.name), rel);
      } else if (e.isFile()) out.push(rel);
      else if (e.isSymbolicLink() && statSync(join(d, e.name), { throwIfNoEntry: false })?.isFile())
        out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}
