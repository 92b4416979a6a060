// Installs the Node-RED modules a config pins into Node-RED's user dir, from the gateway's own
// module cache and never from the internet: npm runs with --offline against
// <cache>/packages/<name>-<version>.tgz (the module, as `npm pack` names it) and <cache>/npm (npm's
// cache holding its dependencies, filled where the cache was made). Install scripts never run: they
// would run as the agent's user. Nothing is done when the user dir already holds exactly the list.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRedModule } from '@brana/firmware';
import { NodeRedError } from '../errors.ts';

export interface ModuleInstallOptions {
  userDir: string;
  cacheDir: string;
  /** Default "npm" from PATH. */
  npmCommand?: string;
  timeoutMs?: number;
}

/** The file `npm pack` makes for a module: "@scope/name" → "scope-name-1.2.3.tgz". */
export function tarballName(m: Pick<NodeRedModule, 'name' | 'version'>): string {
  return `${m.name.replace(/^@/, '').replace('/', '-')}-${m.version}.tgz`;
}

/** The pinned modules that are not installed at their exact version. */
export function missingModules(userDir: string, modules: readonly NodeRedModule[]): NodeRedModule[] {
  return modules.filter((m) => installedVersion(userDir, m.name) !== m.version);
}

function installedVersion(userDir: string, name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(userDir, 'node_modules', name, 'package.json'), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    return pkg.name === name && typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes the user dir hold exactly `modules` (npm removes what is no longer listed). Returns the
 * modules it installed. Throws NodeRedError naming the module and the cache file when one is missing.
 */
export async function installModules(
  modules: readonly NodeRedModule[],
  o: ModuleInstallOptions,
): Promise<NodeRedModule[]> {
  const wanted = new Map(modules.map((m) => [m.name, m.version]));
  const declared = readDeclared(o.userDir);
  const sameList =
    declared.size === wanted.size &&
    [...wanted].every(([name, v]) => declared.get(name) === `file:${tarballPath(o, name, v)}`);
  const missing = missingModules(o.userDir, modules);
  if (sameList && missing.length === 0) return [];

  for (const m of modules) {
    const file = tarballPath(o, m.name, m.version);
    if (!existsSync(file)) {
      throw new NodeRedError(
        `module ${m.name}@${m.version} is not in the gateway's module cache (${file})`,
        `put it there (npm pack ${m.name}@${m.version}; npm install --cache ${join(o.cacheDir, 'npm')} on a connected machine), or remove it from nodeRed.modules`,
        { code: 'NODE_RED_MODULE_MISSING', retryable: false },
      );
    }
  }
  mkdirSync(o.userDir, { recursive: true, mode: 0o700 });
  const dependencies = Object.fromEntries(
    modules.map((m) => [m.name, `file:${tarballPath(o, m.name, m.version)}`]),
  );
  writeFileSync(
    join(o.userDir, 'package.json'),
    `${JSON.stringify({ name: 'brana-node-red-user', private: true, description: 'Modules of the signed config (written by brana-gateway)', dependencies }, null, 2)}\n`,
  );
  await runNpm(o, [
    'install',
    '--offline',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--omit=dev',
    '--cache',
    join(o.cacheDir, 'npm'),
    '--prefix',
    o.userDir,
  ]);
  const wrong = missingModules(o.userDir, modules);
  if (wrong.length > 0) {
    throw new NodeRedError(
      `after installing, ${wrong.map((m) => `${m.name}@${m.version}`).join(', ')} is not what the cache file holds`,
      'replace the cache file with the module at the pinned version',
      { code: 'NODE_RED_MODULE_MISMATCH', retryable: false },
    );
  }
  return missing;
}

function tarballPath(o: ModuleInstallOptions, name: string, version: string): string {
  return join(o.cacheDir, 'packages', tarballName({ name, version }));
}

function readDeclared(userDir: string): Map<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(join(userDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return new Map(Object.entries(pkg.dependencies ?? {}));
  } catch {
    return new Map();
  }
}

function runNpm(o: ModuleInstallOptions, args: string[]): Promise<void> {
  const npm = o.npmCommand ?? 'npm';
  return new Promise((resolve, reject) => {
    execFile(
      npm,
      args,
      {
        timeout: o.timeoutMs ?? 300_000,
        maxBuffer: 8 * 1024 * 1024,
        // No registry is ever asked: offline, and a registry address that goes nowhere besides.
        env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_audit: 'false' },
      },
      (err, _stdout, stderr) => {
        if (!err) {
          resolve();
          return;
        }
        const why = stderr
          .split('\n')
          .filter((l) => /npm (error|ERR!)/.test(l))
          .slice(0, 4)
          .join(' ')
          .slice(0, 500);
        reject(
          new NodeRedError(
            `installing modules from the cache failed (${why || err.message})`,
            `check that the cache at ${o.cacheDir} holds the modules and their dependencies`,
            { code: 'NODE_RED_MODULE_INSTALL', retryable: false, cause: err },
          ),
        );
      },
    );
  });
}
