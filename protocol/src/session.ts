// Session proofs and HTTP request signatures: what exactly gets signed, in one place for both sides.
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { signCanonical, verifyCanonical } from './keys.ts';

/** What the gateway signs to answer a challenge. */
export function sessionProof(gatewayId: string, nonce: string) {
  return { purpose: 'brana-session-v1', gatewayId, nonce } as const;
}

/** What the server signs back over the gateway's clientNonce. */
export function serverProof(gatewayId: string, clientNonce: string) {
  return { purpose: 'brana-server-v1', gatewayId, nonce: clientNonce } as const;
}

export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

export function signSessionProof(gatewayId: string, nonce: string, gatewayKey: KeyObject): string {
  return signCanonical(sessionProof(gatewayId, nonce), gatewayKey);
}

export function verifySessionProof(
  gatewayId: string,
  nonce: string,
  signature: string,
  gatewayPublicKey: KeyObject | string,
): boolean {
  return verifyCanonical(sessionProof(gatewayId, nonce), signature, gatewayPublicKey);
}

export function signServerProof(gatewayId: string, clientNonce: string, serverKey: KeyObject): string {
  return signCanonical(serverProof(gatewayId, clientNonce), serverKey);
}

export function verifyServerProof(
  gatewayId: string,
  clientNonce: string,
  signature: string,
  serverPublicKey: KeyObject | string,
): boolean {
  return verifyCanonical(serverProof(gatewayId, clientNonce), signature, serverPublicKey);
}

// ---------------------------------------------------------------- signed HTTP requests

/** Headers of a gateway's signed HTTP request (telemetry fallback when the WebSocket is down). */
export const GATEWAY_HEADERS = {
  id: 'x-brana-gateway',
  timestamp: 'x-brana-timestamp',
  signature: 'x-brana-signature',
} as const;

/** A signed request is accepted within this many seconds of the server clock. */
export const REQUEST_MAX_SKEW_S = 300;

function requestProof(method: string, path: string, timestampMs: number, bodySha256: string) {
  return {
    purpose: 'brana-request-v1',
    method: method.toUpperCase(),
    path,
    timestamp: timestampMs,
    bodySha256,
  };
}

/** The body as sent: a string is hashed as its UTF-8 bytes. */
function bodySha256(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Headers to send with `body` (the exact string sent) to `path` (no host, no query). */
export function signGatewayRequest(
  gatewayId: string,
  method: string,
  path: string,
  body: string,
  gatewayKey: KeyObject,
  nowMs = Date.now(),
): Record<string, string> {
  return {
    [GATEWAY_HEADERS.id]: gatewayId,
    [GATEWAY_HEADERS.timestamp]: String(nowMs),
    [GATEWAY_HEADERS.signature]: signCanonical(
      requestProof(method, path, nowMs, bodySha256(body)),
      gatewayKey,
    ),
  };
}

export interface SignedRequest {
  method: string;
  path: string;
  /** The exact body received: bytes, or the string whose UTF-8 bytes were sent. */
  body: string | Uint8Array;
  timestamp: string;
  signature: string;
}

export type RequestCheck = { ok: true } | { ok: false; message: string };

function checkTimestamp(timestamp: string, nowMs: number): RequestCheck & { ts: number } {
  const ts = Number(timestamp);
  if (!Number.isSafeInteger(ts)) {
    return { ok: false, message: `${GATEWAY_HEADERS.timestamp} must be Unix milliseconds`, ts };
  }
  if (Math.abs(nowMs - ts) > REQUEST_MAX_SKEW_S * 1000) {
    return {
      ok: false,
      message: `${GATEWAY_HEADERS.timestamp} is more than ${REQUEST_MAX_SKEW_S} s from server time; fix the gateway clock`,
      ts,
    };
  }
  return { ok: true, ts };
}

const BAD_SIGNATURE = `${GATEWAY_HEADERS.signature} does not verify with the enrolled key`;

export function verifyGatewayRequest(
  input: SignedRequest,
  gatewayPublicKey: KeyObject | string,
  nowMs = Date.now(),
): RequestCheck {
  const t = checkTimestamp(input.timestamp, nowMs);
  if (!t.ok) return { ok: false, message: t.message };
  const proof = requestProof(input.method, input.path, t.ts, bodySha256(input.body));
  if (!verifyCanonical(proof, input.signature, gatewayPublicKey))
    return { ok: false, message: BAD_SIGNATURE };
  return { ok: true };
}

// ---------------------------------------------------------------- parsing

export interface WireIssue {
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: WireIssue[] };

/** Parses one text frame: JSON syntax errors and schema errors come back with a path, never thrown. */
export function parseWire<S extends z.ZodType>(schema: S, text: string): ParseResult<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return { ok: false, issues: [{ path: '(root)', message: `not JSON: ${(cause as Error).message}` }] };
  }
  return parseWireValue(schema, json);
}

/** Like parseWire, for a value already decoded from JSON. */
export function parseWireValue<S extends z.ZodType>(schema: S, json: unknown): ParseResult<z.infer<S>> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  };
}

/** ['readings', 3, 'value'] → "readings[3].value" */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}
