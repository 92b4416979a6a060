// Staging against a real HTTP release server (serveReleases) behind a proxy that misbehaves.
import { spawnSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEd25519KeyPair } from '@brana/protocol';
import { type Platform, type ReleaseServer, serveReleases } from '@brana/release';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultyProxy, startFaultyProxy, writeRelease } from '../../test/release-fixture.ts';
import { UpdateFetchError, UpdateRefusedError } from './errors.ts';
import { ReleaseFetcher } from './fetch.ts';
import { currentVersion, releasePaths, switchCurrent } from './guard/disk.ts';
import { type StageOptions, stageRelease } from './stage.ts';

const key = generateEd25519KeyPair();
const stranger = generateEd25519KeyPair();
let work: string;
let server: ReleaseServer;
let proxy: FaultyProxy;

// 1.0.0 and 1.1.0 share everything but app.js; 1.2.0 adds a 600 kB file for the resume cases.
const big = Buffer.alloc(600_000, 7);
big.write('release 1.2.0 data');
const files = (appText: string) => ({
  'dist/app.js': appText,
  'node_modules/lib/index.js': 'module.exports = 42;\n',
  'profiles/meter.yaml': 'name: meter\n',
});

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'brana-stage-'));
  const sources: [string, string, Platform, Record<string, string | Buffer>, KeyObject][] = [
    ['1.0.0', '1.0.0', 'linux-x64', files('v1'), key.privateKey],
    ['1.1.0', '1.1.0', 'linux-x64', files('v1.1 changed'), key.privateKey],
    ['1.2.0', '1.2.0', 'linux-x64', { ...files('v1.2'), 'dist/big.bin': big }, key.privateKey],
    ['arm', '1.3.0', 'linux-arm64', files('arm'), key.privateKey],
    ['foreign', '1.4.0', 'linux-x64', files('x'), stranger.privateKey],
    ['forged', '1.5.0', 'linux-x64', files('y'), key.privateKey],
  ];
  for (const [dir, version, platform, content, k] of sources) {
    writeRelease(join(work, 'src', dir), { version, platform, files: content, key: k });
  }
  // A manifest whose listed hash was changed after signing.
  const forged = JSON.parse(readFileSync(join(work, 'src/forged/manifest.json'), 'utf8'));
  forged.manifest.files[0].size += 1;
  writeFileSync(join(work, 'src/forged/manifest.json'), JSON.stringify(forged));
  server = await serveReleases({ dirs: readdirSync(join(work, 'src')).map((d) => join(work, 'src', d)) });
  proxy = await startFaultyProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  proxy.fault = { kind: 'none' };
  proxy.onFileRequest = undefined;
});

function gateway(name: string) {
  const root = join(work, name);
  mkdirSync(root, { recursive: true });
  return releasePaths(root);
}

const opts = (
  paths: ReturnType<typeof releasePaths>,
  version: string,
  over: Partial<StageOptions> = {},
): StageOptions => ({
  paths,
  version,
  platform: 'linux-x64',
  trustedKeys: [key.publicKey],
  fetcher: new ReleaseFetcher({ baseUrl: proxy.url, idleTimeoutMs: 5000 }),
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<UpdateRefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpdateRefusedError);
  return err as UpdateRefusedError;
}

describe('staging a release', () => {
  it('fetches a first release whole, then only the file that changed', async () => {
    const paths = gateway('gw-diff');
    const first = await stageRelease(opts(paths, '1.0.0'));
    expect(first).toMatchObject({ fetchedFiles: 4, reusedFiles: 0 });
    switchCurrent(paths, '1.0.0');
    const before = server.stats().bytesSent;
    const second = await stageRelease(opts(paths, '1.1.0'));
    expect(second).toMatchObject({ fetchedFiles: 1, reusedFiles: 3, fetchedBytes: 'v1.1 changed'.length });
    // The manifest and one small file crossed the wire, nothing else.
    const manifestBytes = readFileSync(join(work, 'src/1.1.0/manifest.json')).length;
    expect(server.stats().bytesSent - before).toBe(manifestBytes + 'v1.1 changed'.length);
    expect(readFileSync(join(paths.releases, '1.1.0/dist/app.js'), 'utf8')).toBe('v1.1 changed');
    expect(currentVersion(paths)).toBe('1.0.0');
    // Nothing left half-done.
    expect(readdirSync(paths.releases).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(readdirSync(join(paths.root, 'store'))).toEqual([]);
  });

  it('resumes a download cut short with a range request, without fetching the start again', async () => {
    const paths = gateway('gw-cut');
    proxy.fault = { kind: 'cut-after', bytes: 250_000 };
    const r = await stageRelease(opts(paths, '1.2.0'));
    expect(r.fetchedFiles).toBe(5);
    expect(proxy.log.some((l) => l.includes('bytes=250000-'))).toBe(true);
    expect(readFileSync(join(paths.releases, '1.2.0/dist/big.bin')).equals(big)).toBe(true);
  });

  it('a server that goes away mid-download leaves the running release as it was; the next attempt resumes', async () => {
    const paths = gateway('gw-gone');
    await stageRelease(opts(paths, '1.0.0'));
    switchCurrent(paths, '1.0.0');
    proxy.fault = { kind: 'vanish-after', bytes: 300_000 };
    const err = await stageRelease(opts(paths, '1.2.0', { fileRetries: 1 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpdateFetchError);
    expect((err as UpdateFetchError).reason).toMatch(/truncated|server-unreachable/);
    expect(currentVersion(paths)).toBe('1.0.0');
    expect(readdirSync(paths.releases)).toEqual(['1.0.0']);
    // The bytes already fetched wait in the store for the next attempt.
    const partial = readdirSync(join(paths.root, 'store')).filter((f) => f.endsWith('.partial'));
    expect(partial.length).toBe(1);
    await proxy.restore();
    const r = await stageRelease(opts(paths, '1.2.0'));
    expect(r.fetchedBytes).toBeLessThan(big.length);
    expect(readFileSync(join(paths.releases, '1.2.0/dist/big.bin')).equals(big)).toBe(true);
  });

  it('refuses a bad signature, an unknown key and another platform before fetching a file', async () => {
    const paths = gateway('gw-refuse');
    const files = server.stats().files;
    expect((await refusal(stageRelease(opts(paths, '1.5.0')))).reason).toBe('bad-signature');
    expect((await refusal(stageRelease(opts(paths, '1.4.0')))).reason).toBe('unknown-key');
    const arm = await refusal(stageRelease(opts(paths, '1.3.0', { platform: 'linux-x64' })));
    // The server has no x64 manifest of 1.3.0; asked for its arm64 one, the gateway refuses it.
    expect(arm.reason).toBe('not-found');
    const wrong = await refusal(
      stageRelease({
        ...opts(paths, '1.3.0'),
        fetcher: forcePlatform(new ReleaseFetcher({ baseUrl: proxy.url }), 'linux-arm64'),
      }),
    );
    expect(wrong.reason).toBe('wrong-platform');
    expect(wrong.message).toContain('built for linux-arm64; this gateway is linux-x64');
    expect((await refusal(stageRelease(opts(paths, '1.0.0', { nodeVersion: 'v22.1.0' })))).reason).toBe(
      'node-incompatible',
    );
    expect((await refusal(stageRelease(opts(paths, '1.0.0', { configSchemaVersion: 2 })))).reason).toBe(
      'config-incompatible',
    );
    expect(server.stats().files).toBe(files);
    expect(existsSync(paths.releases)).toBe(false);
  });

  it('refuses a file whose bytes are not what the manifest says', async () => {
    const paths = gateway('gw-tamper');
    proxy.fault = { kind: 'corrupt' };
    const err = await refusal(stageRelease(opts(paths, '1.0.0')));
    expect(err.reason).toBe('tampered-file');
    expect(err.message).toMatch(/hashes to .*not what the signed manifest lists/);
    expect(existsSync(join(paths.releases, '1.0.0'))).toBe(false);
  });

  it('refuses for a full disk: before fetching when the room is short, and when a write fails', async () => {
    const paths = gateway('gw-full');
    const early = await refusal(stageRelease(opts(paths, '1.2.0', { reserveBytes: 1024 ** 5 })));
    expect(early.reason).toBe('disk-full');
    expect(early.message).toMatch(/needs 1 MB .* MB free/);

    // A real full file system: a 4 MB tmpfs, filled up once the download has begun.
    const mnt = join(work, 'tmpfs');
    mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(mount.status, `mount tmpfs (the test needs root): ${mount.stderr}`).toBe(0);
    try {
      const small = releasePaths(mnt);
      proxy.onFileRequest = () => {
        proxy.onFileRequest = undefined;
        spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=64k', 'count=1000'], {
          encoding: 'utf8',
        });
      };
      const late = await refusal(stageRelease(opts(small, '1.2.0', { reserveBytes: 0 })));
      expect(late.reason).toBe('disk-full');
      expect(readdirSync(mnt).sort()).toEqual(['filler', 'releases', 'store']);
      // What was written of the download is removed again: a full disk needs every byte.
      expect(readdirSync(join(mnt, 'store'))).toEqual([]);
      expect(readdirSync(join(mnt, 'releases'))).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

/** A fetcher that asks for the manifest of another platform (as a misconfigured server would serve it). */
function forcePlatform(f: ReleaseFetcher, platform: string): ReleaseFetcher {
  const manifest = f.manifest.bind(f);
  f.manifest = (version: string) => manifest(version, platform);
  return f;
}
