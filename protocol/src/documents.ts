// Signed desired-config documents: what the server tells a gateway to run.
// hash = sha256 hex of canonicalJson(config). The signature covers canonicalJson of the envelope
// { kind, version, hash, issuedAt } (the hash binds the config), so a verifier checks both.
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex, signCanonical, verifyCanonical } from './keys.ts';

export const CONFIG_DOCUMENT_KIND = 'brana.gateway-config/v1';

export const base64urlSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url without padding');
/** Raw 32-byte Ed25519 public key, base64url (43 characters). */
export const publicKeySchema = base64urlSchema.length(
  43,
  'expected a 32-byte Ed25519 key as 43 base64url characters',
);
/** Raw 64-byte Ed25519 signature, base64url (86 characters). */
export const signatureSchema = base64urlSchema.length(
  86,
  'expected a 64-byte Ed25519 signature as 86 base64url characters',
);
export const sha256HexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected a sha256 digest as 64 lowercase hex digits');

export const signedConfigDocumentSchema = z.strictObject({
  kind: z.literal(CONFIG_DOCUMENT_KIND),
  /** Monotonic per server, starts at 1. */
  version: z.number().int().positive(),
  hash: sha256HexSchema,
  issuedAt: z.iso.datetime(),
  /** The gateway config; validate it with @brana/firmware's validateGatewayConfig before use. */
  config: z.unknown(),
  signature: signatureSchema,
});
export type SignedConfigDocument = z.infer<typeof signedConfigDocumentSchema>;

/** What a gateway runs, or wants to tell the server about. */
export const configRefSchema = z.strictObject({
  version: z.number().int().positive(),
  hash: sha256HexSchema,
});
export type ConfigRef = z.infer<typeof configRefSchema>;

export function hashConfig(config: unknown): string {
  return sha256Hex(canonicalJson(config));
}

function envelope(doc: { version: number; hash: string; issuedAt: string }) {
  return { kind: CONFIG_DOCUMENT_KIND, version: doc.version, hash: doc.hash, issuedAt: doc.issuedAt };
}

export function signDocument(
  input: { version: number; config: unknown; issuedAt?: string },
  serverPrivateKey: KeyObject,
): SignedConfigDocument {
  const issuedAt = input.issuedAt ?? new Date().toISOString();
  const hash = hashConfig(input.config);
  const signature = signCanonical(envelope({ version: input.version, hash, issuedAt }), serverPrivateKey);
  return {
    kind: CONFIG_DOCUMENT_KIND,
    version: input.version,
    hash,
    issuedAt,
    config: input.config,
    signature,
  };
}

export type VerifyDocumentResult =
  | { ok: true; document: SignedConfigDocument }
  | { ok: false; reason: 'malformed' | 'bad-hash' | 'bad-signature'; message: string };

/** Checks shape, hash and signature against the pinned server key; never throws. */
export function verifyDocument(doc: unknown, serverPublicKey: KeyObject | string): VerifyDocumentResult {
  const parsed = signedConfigDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    return {
      ok: false,
      reason: 'malformed',
      message: `config document ${where}: ${issue?.message ?? 'invalid'}`,
    };
  }
  const d = parsed.data;
  let actual: string;
  try {
    actual = hashConfig(d.config);
  } catch (cause) {
    return { ok: false, reason: 'malformed', message: `config document config: ${(cause as Error).message}` };
  }
  if (actual !== d.hash) {
    return {
      ok: false,
      reason: 'bad-hash',
      message: `config document hash ${d.hash} does not match its config (sha256 ${actual}); the document was altered`,
    };
  }
  if (!verifyCanonical(envelope(d), d.signature, serverPublicKey)) {
    return {
      ok: false,
      reason: 'bad-signature',
      message: 'config document signature does not verify with the pinned server key; refuse it',
    };
  }
  return { ok: true, document: d };
}
