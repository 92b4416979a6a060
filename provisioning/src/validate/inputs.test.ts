import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isClaimToken, parseClaimToken, redact } from './claim-token.ts';
import { parseServerUrl } from './server-url.ts';

describe('claim tokens', () => {
  it('accepts the shape the fleet server makes and never echoes a whole token', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 24 }), (bytes) => {
        const token = `brc_${Buffer.from(bytes).toString('base64url')}`;
        expect(parseClaimToken(token)).toBe(token);
        expect(redact(token)).not.toContain(token.slice(8));
      }),
    );
    const api = `brt_${randomBytes(32).toString('base64url')}`;
    expect(isClaimToken(api)).toBe(false);
    try {
      parseClaimToken(api);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/--claim: .* not a claim token .*Fix: .*API token/);
      expect((e as Error).message).not.toContain(api.slice(6));
    }
    expect(isClaimToken(`brc_${'a'.repeat(31)}`)).toBe(false);
  });
});

describe('server URLs', () => {
  it('keeps a base URL without its trailing slash', () => {
    expect(parseServerUrl('https://fleet.example.org/')).toBe('https://fleet.example.org');
    expect(parseServerUrl('https://example.org/brana/')).toBe('https://example.org/brana');
    expect(parseServerUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(parseServerUrl('http://localhost:8080')).toBe('http://localhost:8080');
  });
  it('refuses plain http to another host unless allowed, credentials, queries and other schemes', () => {
    expect(() => parseServerUrl('http://fleet.example.org')).toThrow(/unencrypted\. Fix: use https/);
    expect(parseServerUrl('http://fleet.lan', '--server', { allowHttp: true })).toBe('http://fleet.lan');
    expect(() => parseServerUrl('https://u:p@fleet.example.org')).toThrow(/user name or password/);
    expect(() => parseServerUrl('https://fleet.example.org/?x=1')).toThrow(/query/);
    expect(() => parseServerUrl('ftp://fleet.example.org')).toThrow(/not http or https/);
    expect(() => parseServerUrl('fleet.example.org')).toThrow(/not a URL/);
  });
});
