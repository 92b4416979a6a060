import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealedCredentialsSchema } from '@brana/firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FlowCredentials, loadCredentialsKey, openCredentials, sealCredentials } from './credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-creds-'));
const gw1 = loadCredentialsKey(join(dir, 'gw1.pem'));
const gw2 = loadCredentialsKey(join(dir, 'gw2.pem'));
const other = loadCredentialsKey(join(dir, 'other.pem'));

const creds: FlowCredentials = {
  mqtt1: { user: 'nurse-station', password: 'S3cr3t-heslo' },
  api: { token: 'k-123' },
};

describe('sealed flow credentials', () => {
  it('the key is made once (0600) and loaded the same next time', () => {
    const again = loadCredentialsKey(join(dir, 'gw1.pem'));
    expect(again.publicKey).toBe(gw1.publicKey);
    expect(again.keyId).toHaveLength(22);
    expect(statSync(join(dir, 'gw1.pem')).mode & 0o777).toBe(0o600);
  });

  it('each gateway of a group opens the same payload; the envelope passes the config schema and holds no clear text', () => {
    const sealed = sealCredentials(creds, [gw1.publicKey, gw2.publicKey]);
    expect(sealedCredentialsSchema.safeParse(sealed).success).toBe(true);
    expect(JSON.stringify(sealed)).not.toMatch(/S3cr3t|nurse-station|k-123/);
    expect(openCredentials(sealed, gw1)).toEqual(creds);
    expect(openCredentials(sealed, gw2)).toEqual(creds);
  });

  it('a gateway it was not sealed for is told so, by key id, without any of the payload', () => {
    const sealed = sealCredentials(creds, [gw1.publicKey]);
    expect(() => openCredentials(sealed, other)).toThrow(
      new RegExp(`not sealed for this gateway \\(its key id is ${other.keyId}`),
    );
  });

  it('property: any altered byte of the envelope is refused, never opened to something else', () => {
    const sealed = sealCredentials(creds, [gw1.publicKey]);
    const fields = ['ct', 'iv', 'wrapped', 'epk'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (field, at, xor) => {
          const copy = structuredClone(sealed);
          const target = field === 'ct' || field === 'iv' ? copy : copy.recipients[0]!;
          const bytes = Buffer.from((target as Record<string, string>)[field]!, 'base64url');
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ xor;
          (target as Record<string, string>)[field] = bytes.toString('base64url');
          let opened: unknown;
          try {
            opened = openCredentials(copy, gw1);
          } catch (err) {
            expect((err as Error).message).not.toMatch(/S3cr3t|nurse/);
            return;
          }
          // base64url may decode two spellings to the same bytes only when nothing changed.
          expect(opened).toEqual(creds);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a wrapped key moved to another recipient entry does not open', () => {
    const sealed = sealCredentials(creds, [gw1.publicKey, gw2.publicKey]);
    const swapped = structuredClone(sealed);
    swapped.recipients[0]!.wrapped = sealed.recipients[1]!.wrapped;
    swapped.recipients[0]!.epk = sealed.recipients[1]!.epk;
    expect(() => openCredentials(swapped, gw1)).toThrow(/does not open/);
    expect(readFileSync(join(dir, 'gw1.pem'), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });
});
