// `brana-release native`: the modules a release compiles on install (better-sqlite3, epoll) cross-
// compiled for another platform, into a node_modules tree that `build --native-from` takes. Needs
// the target's C/C++ tool chain (Debian: g++-aarch64-linux-gnu), node-gyp (it comes with npm) and
// the headers of the Node.js that will run them (installed with Node: <prefix>/include/node).
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { BuildError } from '../errors.ts';
import { elfPlatform, hostPlatform, type Platform } from '../manifest/platform.ts';
import { RUNTIME_MODULES } from './contents.ts';
import { planDependencies } from './dependencies.ts';

const TRIPLE: Record<Platform, { triple: string; arch: string }> = {
  'linux-arm64': { triple: 'aarch64-linux-gnu', arch: 'arm64' },
  'linux-x64': { triple: 'x86_64-linux-gnu', arch: 'x64' },
};

/** Headers needed to compile, not shipped: copied beside the modules so their binding.gyp finds them. */
const BUILD_HEADERS = ['nan', 'node-addon-api'];

export interface NativeOptions {
  root: string;
  platform: Platform;
  out: string;
  jobs?: number;
  progress?: (line: string) => void;
}

export interface NativeResult {
  built: { name: string; version: string; binary: string; seconds: number }[];
  nodeModules: string;
}

function findNodeGyp(): string {
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  for (const candidate of [
    join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new BuildError('node-gyp was not found (it comes with npm)', 'install npm, or node-gyp globally');
}

export function buildNative(options: NativeOptions): NativeResult {
  const o = { ...options, root: resolve(options.root), out: resolve(options.out) };
  const progress = o.progress ?? (() => {});
  const { triple, arch } = TRIPLE[o.platform];
  const cross = o.platform !== hostPlatform();
  const tool = (name: string) => (cross ? `${triple}-${name}` : name);
  if (spawnSync(tool('g++'), ['--version']).status !== 0) {
    throw new BuildError(
      `the C++ compiler ${tool('g++')} is missing`,
      cross ? `install the cross tool chain (Debian: apt-get install g++-${triple})` : 'install g++ and make',
    );
  }
  const nodeDir = join(dirname(process.execPath), '..');
  if (!existsSync(join(nodeDir, 'include/node/node.h'))) {
    throw new BuildError(
      `no Node.js headers under ${nodeDir}/include/node`,
      'install the Node.js development headers',
    );
  }
  const nodeGyp = findNodeGyp();
  // The compiled modules of the release (planned for the host: the tree is the same, the binaries not).
  const plan = planDependencies({
    root: o.root,
    platform: hostPlatform() ?? o.platform,
    roots: RUNTIME_MODULES.map((m) => ({ name: m.name, from: join(o.root, m.from) })),
  });
  const compiled = plan.packages.filter((p) => p.compiled && existsSync(join(p.from, 'binding.gyp')));
  const nodeModules = join(o.out, 'node_modules');
  mkdirSync(nodeModules, { recursive: true });
  for (const h of BUILD_HEADERS) {
    const from = join(o.root, 'node_modules', h);
    if (existsSync(from)) cpSync(from, join(nodeModules, h), { recursive: true });
  }
  const built: NativeResult['built'] = [];
  for (const p of compiled) {
    // Prebuilt binaries for the target make compiling unnecessary.
    if (existsSync(join(p.from, 'prebuilds', o.platform))) continue;
    const dir = join(o.out, p.to);
    rmSync(dir, { recursive: true, force: true });
    cpSync(p.from, dir, { recursive: true, filter: (src) => !/^build(\/|$)/.test(relative(p.from, src)) });
    progress(`compiling ${p.name}@${p.version} for ${o.platform}`);
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [nodeGyp, 'rebuild', `--arch=${arch}`, `--nodedir=${nodeDir}`, '--release', `-j`, String(o.jobs ?? 2)],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CC: tool('gcc'), CXX: tool('g++'), LINK: tool('g++'), AR: tool('ar') },
      },
    );
    if (r.status !== 0) {
      throw new BuildError(
        `compiling ${p.name} for ${o.platform} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`,
        'read the compiler output above (run node-gyp rebuild in the package for all of it)',
      );
    }
    const binaries = readdirSync(join(dir, 'build/Release'))
      .filter((f) => f.endsWith('.node'))
      .map((f) => join(dir, 'build/Release', f));
    for (const b of binaries) {
      const head = Buffer.alloc(20);
      const fd = openSync(b, 'r');
      readSync(fd, head, 0, 20, 0);
      closeSync(fd);
      const v = elfPlatform(head);
      if (v.kind !== 'platform' || v.platform !== o.platform) {
        throw new BuildError(
          `${b} came out as ${v.kind === 'other' ? v.detail : v.kind}, not ${o.platform}`,
          `check the ${triple} tool chain`,
        );
      }
      built.push({
        name: p.name,
        version: p.version,
        binary: relative(o.out, b),
        seconds: (Date.now() - started) / 1000,
      });
    }
  }
  return { built, nodeModules };
}
