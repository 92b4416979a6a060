import { generateEd25519KeyPair } from '@brana/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  manifestText,
  type ReleaseManifest,
  releaseKeyId,
  releasePathProblem,
  signManifest,
  verifySignedManifest,
} from './manifest.ts';
import { nodeRangeFromEngines, nodeSatisfies, parseNodeRange } from './node-range.ts';
import { elfPlatform } from './platform.ts';

const key = generateEd25519KeyPair();
const other = generateEd25519KeyPair();

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const segment = fc
  .stringMatching(/^[A-Za-z0-9_@+ -][A-Za-z0-9._@+ -]{0,11}$/)
  .filter((s) => s !== '.' && s !== '..');
const pathArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));

const manifestArb: fc.Arbitrary<ReleaseManifest> = fc
  .uniqueArray(fc.record({ path: pathArb, size: fc.nat(1_000_000), sha256: hex64 }), {
    minLength: 1,
    maxLength: 20,
    selector: (f) => f.path,
  })
  // No file may lie under another listed as a file.
  .map((files) => files.filter((f) => !files.some((g) => g !== f && f.path.startsWith(`${g.path}/`))))
  .map((files) => ({
    version: '1.4.0',
    platform: 'linux-arm64' as const,
    node: '>=20.19.0 <21.0.0',
    configSchema: { min: 1, max: 1 },
    createdAt: '2026-03-01T10:00:00.000Z',
    source: { commit: 'a'.repeat(40), dirty: false },
    entrypoints: { firmware: files[0]!.path, gateway: files[0]!.path, guard: files[0]!.path },
    files,
  }));

describe('signed release manifest', () => {
  it('verifies what it signs, through its text form, with the key among several trusted ones', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const signed = signManifest(m, key.privateKey);
        const v = verifySignedManifest(manifestText(signed), [other.publicKey, key.publicKey]);
        expect(v.ok).toBe(true);
        if (v.ok) expect(v.manifest).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses any change to a signed manifest as a bad signature', () => {
    fc.assert(
      fc.property(
        manifestArb,
        fc.nat(),
        fc.constantFrom('size', 'sha256', 'path', 'version', 'platform'),
        (m, pick, field) => {
          const signed = signManifest(m, key.privateKey);
          const files = signed.manifest.files.map((f) => ({ ...f }));
          const f = files[pick % files.length]!;
          let tampered: ReleaseManifest;
          if (field === 'size') f.size += 1;
          else if (field === 'sha256')
            f.sha256 = f.sha256.startsWith('0') ? `1${f.sha256.slice(1)}` : `0${f.sha256.slice(1)}`;
          else if (field === 'path') f.path = `${f.path}x`;
          if (field === 'version') tampered = { ...signed.manifest, version: '1.4.1' };
          else if (field === 'platform') tampered = { ...signed.manifest, platform: 'linux-x64' };
          else tampered = { ...signed.manifest, files };
          const v = verifySignedManifest({ ...signed, manifest: tampered }, [key.publicKey]);
          expect(v).toMatchObject({ ok: false, reason: 'bad-signature', where: 'signature' });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names an unknown key, a malformed document and the path of a bad field', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const signed = signManifest(m, key.privateKey);
        expect(verifySignedManifest(signed, [other.publicKey])).toMatchObject({
          ok: false,
          reason: 'unknown-key',
          where: 'keyId',
        });
      }),
      { numRuns: 20 },
    );
    expect(verifySignedManifest('{"kind":', [key.publicKey])).toMatchObject({
      ok: false,
      reason: 'malformed',
      where: '(document)',
    });
    expect(verifySignedManifest({ kind: 'x' }, [key.publicKey])).toMatchObject({
      ok: false,
      reason: 'malformed',
      where: 'kind',
    });
    // Signed by the right key and still refused: a path that would escape the release directory.
    const evil = signManifest(
      {
        version: '1.0.0',
        platform: 'linux-x64',
        node: '>=20.19.0 <21.0.0',
        configSchema: { min: 1, max: 1 },
        createdAt: '2026-03-01T10:00:00.000Z',
        source: { commit: 'x', dirty: false },
        entrypoints: { firmware: 'a', gateway: 'a', guard: 'a' },
        files: [
          { path: 'a', size: 1, sha256: '0'.repeat(64) },
          { path: '../../etc/passwd', size: 1, sha256: '0'.repeat(64) },
        ],
      },
      key.privateKey,
    );
    expect(verifySignedManifest(evil, [key.publicKey])).toMatchObject({
      ok: false,
      reason: 'malformed',
      where: 'manifest.files[1].path',
    });
  });

  it('release paths: nothing absolute, no . or .. segment, no backslash or control character', () => {
    for (const bad of [
      '/etc/passwd',
      'a/../b',
      './a',
      'a//b',
      'a\\b',
      'a\u0000b',
      '',
      'a/..',
      'manifest.json',
    ]) {
      expect(releasePathProblem(bad)).toBeDefined();
    }
    fc.assert(
      fc.property(pathArb, (p) => {
        expect(releasePathProblem(p)).toBeUndefined();
      }),
    );
  });

  it('key ids are 16 hex digits and differ between keys', () => {
    expect(releaseKeyId(key.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(releaseKeyId(key.publicKey)).not.toBe(releaseKeyId(other.publicKey));
  });
});

describe('Node.js range', () => {
  it('holds exactly the versions from the lower bound below the next major', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.nat(40), fc.nat(40), (major, minor, patch) => {
        const v = `v${major}.${minor}.${patch}`;
        const inRange = major === 20 && (minor > 19 || (minor === 19 && patch >= 0));
        expect(nodeSatisfies(v, '>=20.19.0 <21.0.0')).toBe(inRange);
      }),
    );
    expect(nodeRangeFromEngines('>=20.19')).toBe('>=20.19.0 <21.0.0');
    expect(nodeRangeFromEngines('^20')).toBeUndefined();
    expect(typeof parseNodeRange('>=20 <21')).toBe('string');
    expect(nodeSatisfies('not a version', '>=20.19.0 <21.0.0')).toBe(false);
  });
});

describe('ELF platform', () => {
  const header = (cls: number, data: number, machine: number) => {
    const h = new Uint8Array(20);
    h.set([0x7f, 0x45, 0x4c, 0x46, cls, data]);
    h[18] = machine & 0xff;
    h[19] = machine >> 8;
    return h;
  };
  it('tells arm64 from x64 from anything else', () => {
    expect(elfPlatform(header(2, 1, 0xb7))).toEqual({ kind: 'platform', platform: 'linux-arm64' });
    expect(elfPlatform(header(2, 1, 0x3e))).toEqual({ kind: 'platform', platform: 'linux-x64' });
    expect(elfPlatform(header(1, 1, 0x28))).toMatchObject({ kind: 'other' });
    expect(elfPlatform(new Uint8Array([0x4d, 0x5a]))).toEqual({ kind: 'not-elf' });
  });
});
