// The release manifest: what a release is (version, platform, Node.js range, config schema range)
// and every file in it by path, size and SHA-256, signed with the offline Ed25519 release key.
//
// On disk and on the wire it is one JSON document, the signed envelope
//   { kind, keyId, manifest, signature }
// where signature = Ed25519 over canonicalJson({ kind, keyId, manifest }) and keyId names the key
// (first 16 hex digits of SHA-256 over the raw public key), so a gateway that trusts several
// release keys (a key rotation) knows which one to try. Anything a gateway does with a release
// starts from verifySignedManifest; nothing else in a manifest is trusted before it passes.
import type { KeyObject } from 'node:crypto';
import {
  canonicalJson,
  decodeBase64url,
  formatPath,
  publicKeyOf,
  publicKeySchema,
  sha256Hex,
  sha256HexSchema,
  signatureSchema,
  signCanonical,
  verifyCanonical,
} from '@brana/protocol';
import { z } from 'zod';
import { parseNodeRange } from './node-range.ts';
import { PLATFORMS } from './platform.ts';

export const RELEASE_MANIFEST_KIND = 'brana.release-manifest/v1';

/** Limits that keep a hostile or broken manifest from exhausting a gateway. */
export const MANIFEST_LIMITS = {
  /** Bytes of the signed document as fetched. */
  documentBytes: 16 * 1024 * 1024,
  files: 60_000,
  pathChars: 400,
  fileBytes: 512 * 1024 * 1024,
  totalBytes: 2 * 1024 * 1024 * 1024,
} as const;

/** Release versions are semver; they name directories and URLs, so the character set is small. */
export const releaseVersionSchema = z
  .string()
  .max(64)
  .regex(
    /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z][0-9A-Za-z.-]*)?(\+[0-9A-Za-z][0-9A-Za-z.-]*)?$/,
    'expected a version like 1.4.0 or 1.4.0-rc.1',
  );

/** Why a path may not be in a release: undefined when it is fine. */
export function releasePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MANIFEST_LIMITS.pathChars)
    return `is longer than ${MANIFEST_LIMITS.pathChars} characters`;
  if (path.startsWith('/')) return 'is absolute';
  // Control characters, backslashes and NUL would mean something else on some file system or shell.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what is refused here
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'holds a control character or a backslash';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment (//)';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  if (path === 'manifest.json') return 'is the manifest itself';
  return undefined;
}

const releasePathSchema = z.string().superRefine((p, ctx) => {
  const problem = releasePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p)} ${problem}` });
});

export const releaseFileSchema = z.strictObject({
  path: releasePathSchema,
  size: z.int().min(0).max(MANIFEST_LIMITS.fileBytes),
  sha256: sha256HexSchema,
});
export type ReleaseFile = z.infer<typeof releaseFileSchema>;

export const releaseManifestSchema = z
  .strictObject({
    version: releaseVersionSchema,
    platform: z.enum(PLATFORMS),
    /** Node.js versions it runs on, e.g. ">=20.19.0 <21.0.0" (native modules are built for one ABI). */
    node: z.string().superRefine((r, ctx) => {
      const parsed = parseNodeRange(r);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
    /** Gateway config schema versions (@brana/firmware CONFIG_SCHEMA_VERSION) it understands. */
    configSchema: z
      .strictObject({ min: z.int().min(1), max: z.int().min(1) })
      .refine((r) => r.min <= r.max, 'configSchema.min is above configSchema.max'),
    createdAt: z.iso.datetime(),
    /** The checkout it was built from. */
    source: z.strictObject({ commit: z.string().max(64), dirty: z.boolean() }),
    /** Where the processes start, relative to the release directory. */
    entrypoints: z.strictObject({
      firmware: releasePathSchema,
      gateway: releasePathSchema,
      guard: releasePathSchema,
    }),
    files: z.array(releaseFileSchema).max(MANIFEST_LIMITS.files),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    let total = 0;
    for (const [i, f] of m.files.entries()) {
      if (seen.has(f.path)) {
        ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `${f.path} is listed twice` });
      }
      seen.add(f.path);
      total += f.size;
    }
    // A path that is both a file and a directory of another file cannot be unpacked.
    for (const [i, f] of m.files.entries()) {
      const parts = f.path.split('/');
      for (let n = 1; n < parts.length; n++) {
        const dir = parts.slice(0, n).join('/');
        if (seen.has(dir)) {
          ctx.addIssue({
            code: 'custom',
            path: ['files', i, 'path'],
            message: `${f.path} lies under ${dir}, which is listed as a file`,
          });
        }
      }
    }
    if (total > MANIFEST_LIMITS.totalBytes) {
      ctx.addIssue({ code: 'custom', path: ['files'], message: `the files add up to ${total} bytes` });
    }
    for (const [name, p] of Object.entries(m.entrypoints)) {
      if (!seen.has(p)) {
        ctx.addIssue({
          code: 'custom',
          path: ['entrypoints', name],
          message: `${p} is not among the files`,
        });
      }
    }
  });
export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;

export const signedManifestSchema = z.strictObject({
  kind: z.literal(RELEASE_MANIFEST_KIND),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits'),
  manifest: z.unknown(),
  signature: signatureSchema,
});
export type SignedManifest = {
  kind: typeof RELEASE_MANIFEST_KIND;
  keyId: string;
  manifest: ReleaseManifest;
  signature: string;
};

/** First 16 hex digits of SHA-256 over the raw 32-byte public key. */
export function releaseKeyId(publicKey: string): string {
  return sha256Hex(decodeBase64url(publicKey, 32, 'release public key')).slice(0, 16);
}

export function signManifest(manifest: ReleaseManifest, privateKey: KeyObject): SignedManifest {
  const keyId = releaseKeyId(publicKeyOf(privateKey));
  const signature = signCanonical({ kind: RELEASE_MANIFEST_KIND, keyId, manifest }, privateKey);
  return { kind: RELEASE_MANIFEST_KIND, keyId, manifest, signature };
}

/** The document's bytes as written to manifest.json and served at /releases/<version>/manifest. */
export function manifestText(signed: SignedManifest): string {
  return `${JSON.stringify(signed, null, 1)}\n`;
}

export type VerifyManifestResult =
  | { ok: true; signed: SignedManifest; manifest: ReleaseManifest }
  | {
      ok: false;
      reason: 'malformed' | 'unknown-key' | 'bad-signature';
      /** Where in the document (a JSON path) or which key. */
      where: string;
      message: string;
    };

/**
 * Checks a signed manifest against the release keys this side trusts (raw base64url public keys):
 * shape first, then the key, then the signature over the canonical form, then the manifest's own
 * rules. Never throws; accepts the parsed JSON or its text.
 */
export function verifySignedManifest(doc: unknown, trustedKeys: readonly string[]): VerifyManifestResult {
  let value = doc;
  if (typeof doc === 'string' || doc instanceof Uint8Array) {
    const text = typeof doc === 'string' ? doc : Buffer.from(doc).toString('utf8');
    if (text.length > MANIFEST_LIMITS.documentBytes) {
      return {
        ok: false,
        reason: 'malformed',
        where: '(document)',
        message: `is over ${MANIFEST_LIMITS.documentBytes} bytes`,
      };
    }
    try {
      value = JSON.parse(text);
    } catch (err) {
      return {
        ok: false,
        reason: 'malformed',
        where: '(document)',
        message: `is not JSON (${(err as Error).message})`,
      };
    }
  }
  const envelope = signedManifestSchema.safeParse(value);
  if (!envelope.success) return malformed(envelope.error.issues[0]);
  const keys = trustedKeys.filter((k) => publicKeySchema.safeParse(k).success);
  const key = keys.find((k) => releaseKeyId(k) === envelope.data.keyId);
  if (key === undefined) {
    return {
      ok: false,
      reason: 'unknown-key',
      where: 'keyId',
      message: `signed by key ${envelope.data.keyId}, which is not among the ${keys.length} trusted release key(s)`,
    };
  }
  const { kind, keyId, manifest, signature } = envelope.data;
  let signedOk: boolean;
  try {
    signedOk = verifyCanonical({ kind, keyId, manifest }, signature, key);
  } catch {
    signedOk = false;
  }
  if (!signedOk) {
    return {
      ok: false,
      reason: 'bad-signature',
      where: 'signature',
      message: `the signature does not match the manifest for key ${keyId}`,
    };
  }
  // Signed by a trusted key, and still checked: a signing tool's bug must not become a path escape.
  const parsed = releaseManifestSchema.safeParse(manifest);
  if (!parsed.success) return malformed(parsed.error.issues[0], ['manifest']);
  const signed: SignedManifest = { kind, keyId, manifest: parsed.data, signature };
  return { ok: true, signed, manifest: parsed.data };
}

function malformed(
  issue: z.core.$ZodIssue | undefined,
  prefix: PropertyKey[] = [],
): VerifyManifestResult & { ok: false } {
  const where = formatPath([...prefix, ...(issue?.path ?? [])]);
  return { ok: false, reason: 'malformed', where, message: issue?.message ?? 'malformed' };
}

/** The canonical bytes a manifest's identity rests on (what a server may hash to dedupe uploads). */
export function manifestDigest(signed: SignedManifest): string {
  return sha256Hex(canonicalJson(signed));
}
