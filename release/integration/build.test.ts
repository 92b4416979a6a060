// `brana-release` end to end on this checkout: keygen, build for linux-x64 (one real build, ~30 s
// here), the built processes start with plain node (no tsx anywhere), sign, verify, and what
// verify and build refuse: a changed file, a foreign key, a platform whose native modules this
// machine did not compile.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignedManifest } from '../src/manifest/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'release/bin/brana-release.mjs');
let work: string;
let release: string;

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
}

/** Plain node, without tsx or any loader the test runner may have put in NODE_OPTIONS. */
function plainNode(args: string[], cwd: string) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env, timeout: 60_000 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'brana-release-build-'));
  const k = cli(['keygen', join(work, 'key')]);
  expect(k.status, k.stderr).toBe(0);
  release = join(work, 'r');
  const b = cli(['build', '--version', '1.4.0-test.1', '--platform', 'linux-x64', '--out', release]);
  expect(b.status, b.stderr).toBe(0);
  expect(b.stdout).toMatch(/release 1\.4\.0-test\.1 for linux-x64, \d+ files, .* unsigned/);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A loaded machine (eight engineers on two cores) takes minutes to hash a release twice.
describe('brana-release', { timeout: 240_000 }, () => {
  it('keygen makes a 0600 private key and refuses to overwrite a key', () => {
    expect(statSync(join(work, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(work, 'key.pub'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = cli(['keygen', join(work, 'key')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/key\.pem: already exists\. Fix: /);
  });

  it('builds processes that start with plain node, with source maps, and nothing of tsx or TypeScript', () => {
    for (const entry of [
      'dist/firmware/brana-firmware.mjs',
      'dist/gateway/brana-gateway.mjs',
      'dist/guard/brana-update-guard.mjs',
    ]) {
      const r = plainNode([entry, '--help'], release);
      expect(r.status, `${entry}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/usage/i);
      expect(existsSync(join(release, `${entry}.map`))).toBe(true);
      expect(readFileSync(join(release, entry), 'utf8')).not.toMatch(/from ['"]tsx|tsx\/esm/);
    }
    // The firmware finds its device profiles in the release (../../profiles from its bundle).
    expect(existsSync(join(release, 'profiles'))).toBe(true);
    const guard = readFileSync(join(release, 'dist/guard/brana-update-guard.mjs'), 'utf8');
    expect(guard.match(/from "([^"]+)"/g)?.every((i) => i.includes('"node:'))).toBe(true);
    // Native modules of the platform are there, sources and object files are not.
    expect(existsSync(join(release, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(
      true,
    );
    expect(existsSync(join(release, 'node_modules/better-sqlite3/deps'))).toBe(false);
    expect(existsSync(join(release, 'node_modules/@serialport/bindings-cpp/prebuilds/linux-arm64'))).toBe(
      false,
    );
    const units = readFileSync(join(release, 'systemd/brana-gateway.service'), 'utf8');
    expect(units).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/brana\/current\/dist\/gateway\/brana-gateway\.mjs/m,
    );
  });

  it('signs after checking every file, and verify then accepts it', () => {
    const s = cli(['sign', release, '--key', join(work, 'key.pem')]);
    expect(s.status, s.stderr).toBe(0);
    expect(existsSync(join(release, 'manifest.unsigned.json'))).toBe(false);
    const v = cli(['verify', release, '--key', join(work, 'key.pub'), '--json']);
    expect(v.status, v.stderr).toBe(0);
    const r = JSON.parse(v.stdout) as { ok: boolean; version: string; platform: string; files: number };
    expect(r).toMatchObject({ ok: true, version: '1.4.0-test.1', platform: 'linux-x64' });
    const signed = verifySignedManifest(readFileSync(join(release, 'manifest.json'), 'utf8'), [
      readFileSync(join(work, 'key.pub'), 'utf8').trim(),
    ]);
    expect(signed.ok && signed.manifest.files.length).toBe(r.files);
    expect(signed.ok && signed.manifest.node).toBe('>=20.19.0 <21.0.0');
  });

  it('verify names a changed file and a foreign key', () => {
    const other = cli(['keygen', join(work, 'other')]);
    expect(other.status).toBe(0);
    const foreign = cli(['verify', release, '--key', join(work, 'other.pub')]);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(
      /keyId: signed by key [0-9a-f]{16}, which is not among the 1 trusted release key\(s\)\. Fix: /,
    );
    appendFileSync(join(release, 'profiles/_template.yaml'), 'x');
    const changed = cli(['verify', release, '--key', join(work, 'key.pub')]);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toMatch(/profiles\/_template\.yaml: \d+ bytes, the manifest says \d+/);
  });

  it('refuses to build for arm64 with this machine`s x64 native modules, naming the module and the fix', () => {
    const r = cli(['build', '--version', '1.4.0', '--platform', 'linux-arm64', '--out', join(work, 'arm')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /better-sqlite3\/build\/Release\/better_sqlite3\.node was compiled for linux-x64, not linux-arm64\. Fix: pass --native-from/,
    );
    expect(existsSync(join(work, 'arm'))).toBe(false);
    expect(existsSync(join(work, 'arm.partial'))).toBe(false);
  });

  it('bad usage exits 2 with one line', () => {
    const r = cli(['build', '--version', 'one', '--platform', 'linux-x64', '--out', join(work, 'x')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/version "one": expected a version like 1\.4\.0.*Fix: /),
    ]);
    const p = cli(['build', '--version', '1.0.0', '--platform', 'windows']);
    expect(p.status).toBe(2);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });
});
