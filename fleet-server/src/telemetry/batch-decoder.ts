// Telemetry bodies checked and decoded into columns (columns.ts). The signature (SHA-256 of the
// body, Ed25519) is checked before a byte of the body is parsed (checkBodySignature; the route
// then refuses a revoked or rate-limited gateway before it pays for the parse).
// Decoding stays on the event loop: a decoding thread was measured slower (docs/benchmarks.md).
import type { KeyObject } from 'node:crypto';
import { publicKeyFromBase64url, verifyGatewayRequest } from '@brana/protocol';
import { type BodyShape, type DecodedTelemetry, decodeTelemetryValue } from './columns.ts';

/** A signed HTTP request's proof, checked before the body is parsed. */
export interface BodySignature {
  method: string;
  path: string;
  timestamp: string;
  signature: string;
  /** The gateway's enrolled Ed25519 key, base64url as stored. */
  publicKey: string;
  /** The server clock, ms (the caller's: tests run servers on fake clocks). */
  now: number;
}

// Decoding an enrolled key costs more than the Ed25519 check itself.
const KEY_CACHE_LIMIT = 10_000;
const keys = new Map<string, KeyObject | string>();
function keyFor(encoded: string): KeyObject | string {
  let key = keys.get(encoded);
  if (key === undefined) {
    try {
      key = publicKeyFromBase64url(encoded);
    } catch {
      key = encoded; // verifyGatewayRequest reports it as not verifying
    }
    if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
    keys.set(encoded, key);
  }
  return key;
}

/**
 * Checks a signed telemetry body before anything in it is read: null when it verifies, else why
 * not (as verifyGatewayRequest says).
 */
export function checkBodySignature(body: Uint8Array, signature: BodySignature): string | null {
  const check = verifyGatewayRequest(
    {
      method: signature.method,
      path: signature.path,
      body,
      timestamp: signature.timestamp,
      signature: signature.signature,
    },
    keyFor(signature.publicKey),
    signature.now,
  );
  return check.ok ? null : check.message;
}

/**
 * Parses a telemetry body into columns and events when the fast path takes it; 'other' for the
 * zod schema to parse and explain. Check the signature first (checkBodySignature): this reads the
 * body.
 */
export function decodeTelemetry(body: Uint8Array, shape: BodyShape): DecodedTelemetry {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return { kind: 'other' };
  }
  return decodeTelemetryValue(json, shape);
}
