import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalJsonError,
  canonicalJson,
  GATEWAY_TELEMETRY_PATH,
  gatewayMessageSchema,
  generateEd25519KeyPair,
  hashConfig,
  newNonce,
  parseWire,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromBase64url,
  publicKeyOf,
  serverMessageSchema,
  signDocument,
  signGatewayRequest,
  signServerProof,
  signSessionProof,
  verifyDocument,
  verifyGatewayRequest,
  verifyServerProof,
  verifySessionProof,
} from './index.ts';

const jsonValue = fc.jsonValue();

function shuffleKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shuffleKeys);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).reverse();
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v)]));
  }
  return value;
}

describe('canonicalJson', () => {
  it('round-trips through JSON.parse to an equal value', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        expect(JSON.parse(canonicalJson(v))).toStrictEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(fc.property(jsonValue, (v) => canonicalJson(v) === canonicalJson(shuffleKeys(v))));
  });

  it('is idempotent over parse', () => {
    fc.assert(
      fc.property(jsonValue, (v) => canonicalJson(JSON.parse(canonicalJson(v))) === canonicalJson(v)),
    );
  });

  it('sorts keys and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 0, y: -0 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":0,"z":0}}',
    );
  });

  it('refuses values JSON cannot carry, naming the path', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow('a[1]');
    expect(() => canonicalJson({ when: new Date() })).toThrow('when');
    expect(() => canonicalJson({ n: 1n })).toThrow('bigint');
  });
});

describe('keys and documents', () => {
  const server = generateEd25519KeyPair();
  const other = generateEd25519KeyPair();

  it('encodes public keys as 43 base64url characters and round-trips PEM private keys', () => {
    expect(server.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const back = privateKeyFromPem(privateKeyToPem(server.privateKey));
    expect(publicKeyOf(back)).toBe(server.publicKey);
    expect(() => publicKeyFromBase64url('abc')).toThrow('expected 32');
    expect(() => publicKeyFromBase64url('a+b/')).toThrow('base64url');
  });

  it('signs a document that verifies, and refuses any change', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 1e6 }), (config, version) => {
        const doc = signDocument({ version, config }, server.privateKey);
        expect(doc.hash).toBe(hashConfig(config));
        expect(verifyDocument(doc, server.publicKey).ok).toBe(true);
        const wrongKey = verifyDocument(doc, other.publicKey);
        expect(wrongKey.ok === false && wrongKey.reason).toBe('bad-signature');
        const bumped = verifyDocument({ ...doc, version: version + 1 }, server.publicKey);
        expect(bumped.ok === false && bumped.reason).toBe('bad-signature');
        const altered = verifyDocument({ ...doc, config: { altered: config } }, server.publicKey);
        expect(altered.ok === false && altered.reason).toBe('bad-hash');
      }),
      { numRuns: 30 },
    );
  });

  it('reports a malformed document with its field', () => {
    const doc = signDocument({ version: 1, config: {} }, server.privateKey);
    const r = verifyDocument({ ...doc, extra: 1 }, server.publicKey);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe('malformed');
    const r2 = verifyDocument({ ...doc, hash: 'xyz' }, server.publicKey);
    expect(!r2.ok && r2.message).toContain('hash');
  });
});

describe('session and request proofs', () => {
  const gw = generateEd25519KeyPair();
  const server = generateEd25519KeyPair();

  it('verifies the challenge answer only for the same gateway, nonce and key', () => {
    const nonce = newNonce();
    const sig = signSessionProof('gw_abcdefgh', nonce, gw.privateKey);
    expect(verifySessionProof('gw_abcdefgh', nonce, sig, gw.publicKey)).toBe(true);
    expect(verifySessionProof('gw_abcdefgi', nonce, sig, gw.publicKey)).toBe(false);
    expect(verifySessionProof('gw_abcdefgh', newNonce(), sig, gw.publicKey)).toBe(false);
    expect(verifySessionProof('gw_abcdefgh', nonce, sig, server.publicKey)).toBe(false);
    // A session proof is not a server proof (different purpose).
    expect(verifyServerProof('gw_abcdefgh', nonce, sig, gw.publicKey)).toBe(false);
    const sp = signServerProof('gw_abcdefgh', nonce, server.privateKey);
    expect(verifyServerProof('gw_abcdefgh', nonce, sp, server.publicKey)).toBe(true);
  });

  it('verifies a signed HTTP request and refuses tampering and stale clocks', () => {
    const body = JSON.stringify({ readings: [] });
    const now = 1_800_000_000_000;
    const h = signGatewayRequest('gw_abcdefgh', 'post', GATEWAY_TELEMETRY_PATH, body, gw.privateKey, now);
    const input = {
      method: 'POST',
      path: GATEWAY_TELEMETRY_PATH,
      body,
      timestamp: h['x-brana-timestamp']!,
      signature: h['x-brana-signature']!,
    };
    expect(verifyGatewayRequest(input, gw.publicKey, now + 1000).ok).toBe(true);
    expect(verifyGatewayRequest({ ...input, body: `${body} ` }, gw.publicKey, now).ok).toBe(false);
    const stale = verifyGatewayRequest(input, gw.publicKey, now + 10 * 60_000);
    expect(!stale.ok && stale.message).toContain('gateway clock');
  });

  it('checks the body as bytes or as the text whose UTF-8 bytes were sent', () => {
    const body = JSON.stringify({ readings: [], note: 'Plzeň' }); // not ASCII: bytes ≠ UTF-16 units
    const now = 1_800_000_000_000;
    const h = signGatewayRequest('gw_abcdefgh', 'POST', GATEWAY_TELEMETRY_PATH, body, gw.privateKey, now);
    const input = {
      method: 'POST',
      path: GATEWAY_TELEMETRY_PATH,
      body,
      timestamp: h['x-brana-timestamp']!,
      signature: h['x-brana-signature']!,
    };
    const bytes = Buffer.from(body, 'utf8');
    for (const [i, want] of [
      [input, true],
      [{ ...input, body: bytes }, true],
      [{ ...input, body: Buffer.concat([bytes, Buffer.from(' ')]) }, false],
      [{ ...input, signature: 'A'.repeat(86) }, false],
      [{ ...input, signature: 'short' }, false],
      [{ ...input, timestamp: 'soon' }, false],
    ] as const) {
      expect(verifyGatewayRequest(i, gw.publicKey, now).ok).toBe(want);
    }
    expect(verifyGatewayRequest(input, 'not-a-key', now).ok).toBe(false);
  });
});

describe('message schemas', () => {
  it('parses a hello and refuses unknown fields with their path', () => {
    const ok = parseWire(
      gatewayMessageSchema,
      JSON.stringify({ type: 'hello', protocol: 1, running: null, bootEpoch: 3 }),
    );
    expect(ok.ok).toBe(true);
    const bad = parseWire(
      gatewayMessageSchema,
      JSON.stringify({
        type: 'telemetry',
        readings: [{ bootEpoch: 1, seq: 1, ts: 1, channel: 'a', value: 1, quality: 'good', colour: 'red' }],
      }),
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0]!.path).toBe('readings[0]');
    const seq0 = parseWire(
      gatewayMessageSchema,
      JSON.stringify({
        type: 'telemetry',
        readings: [{ bootEpoch: 1, seq: 0, ts: 1, channel: 'a', value: 1, quality: 'good' }],
      }),
    );
    expect(!seq0.ok && seq0.issues[0]!.path).toBe('readings[0].seq');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const a = parseWire(gatewayMessageSchema, text);
          const b = parseWire(serverMessageSchema, text);
          return typeof a.ok === 'boolean' && typeof b.ok === 'boolean';
        },
      ),
    );
  });

  it('parses both forms of the session answer', () => {
    const sig = 'A'.repeat(86);
    expect(
      serverMessageSchema.safeParse({
        type: 'session',
        accepted: true,
        sessionId: 's',
        serverSignature: sig,
        heartbeatS: 20,
      }).success,
    ).toBe(true);
    expect(
      serverMessageSchema.safeParse({ type: 'session', accepted: false, reason: 'revoked', message: 'm' })
        .success,
    ).toBe(true);
  });
});
