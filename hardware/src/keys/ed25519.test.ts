import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, KeyFormatError, publicKeyFromBase64url, publicKeyToBase64url } from './index.ts';

describe('Ed25519 public key encoding', () => {
  it('round-trips every key, from its public or its private half alike', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const encoded = publicKeyToBase64url(publicKey);
      expect(encoded).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(publicKeyToBase64url(privateKey)).toBe(encoded);
      const back = publicKeyFromBase64url(encoded);
      expect(back.export({ format: 'der', type: 'spki' })).toEqual(
        publicKey.export({ format: 'der', type: 'spki' }),
      );
    }
  });

  it('refuses text that is not 32 bytes of base64url, naming what is wrong', () => {
    expect(() => publicKeyFromBase64url('abc')).toThrow(/decodes to 2 bytes, expected 32/);
    expect(() => publicKeyFromBase64url(`${'A'.repeat(42)}=`)).toThrow(/not base64url/);
    expect(() => publicKeyFromBase64url('a+b/')).toThrow(KeyFormatError);
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          publicKeyFromBase64url(s);
          expect(Buffer.from(s, 'base64url')).toHaveLength(32);
        } catch (e) {
          expect(e).toBeInstanceOf(KeyFormatError);
          expect((e as KeyFormatError).code).toBe('key-format');
        }
      }),
    );
  });

  it('refuses a key of another type', () => {
    const { publicKey } = generateKeyPairSync('x25519');
    expect(() => publicKeyToBase64url(publicKey)).toThrow(KeyFormatError);
    const rsa = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    expect(() => publicKeyToBase64url(rsa)).toThrow(/not an Ed25519 key/);
  });

  it('decodes other lengths for signatures', () => {
    expect(decodeBase64url(Buffer.alloc(64, 7).toString('base64url'), 64, 'signature')).toHaveLength(64);
    expect(() => decodeBase64url('AAAA', 64, 'signature')).toThrow(/signature decodes to 3 bytes/);
  });
});
