// Versioned gateway config documents: validated with the firmware's gateway config schema, then
// signed with the server's Ed25519 key (version + sha256 hash) and stored as sent to gateways.
import type { KeyObject } from 'node:crypto';
import { canonicalJson, type SignedConfigDocument, signDocument } from '@brana/protocol';
import { desc, eq, sql } from 'drizzle-orm';
import { writeAudit } from '../audit/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { ConfigInvalidError, NotFoundError } from '../errors.ts';

const { configDocuments } = schema;

export interface ConfigValidationIssue {
  path: string;
  message: string;
  fix: string;
}

/** The shape of @brana/firmware's validateGatewayConfig. */
export type ConfigValidator = (
  doc: unknown,
) => { ok: true; config: unknown } | { ok: false; errors: ConfigValidationIssue[] };

export interface ConfigSummary {
  version: number;
  hash: string;
  issuedAt: string;
  comment: string | null;
  createdAt: number;
  createdBy: string;
}

export function createConfigDocument(
  db: FleetDb,
  deps: { validate: ConfigValidator; serverKey: KeyObject },
  input: { config: unknown; comment?: string | undefined },
  actor: string,
  now = Date.now(),
): ConfigSummary {
  const result = deps.validate(input.config);
  if (!result.ok) throw new ConfigInvalidError(result.errors);
  // The normalised config (defaults filled in) is what gets signed, so the gateway runs exactly it.
  const config = JSON.parse(JSON.stringify(result.config)) as unknown;
  return writeTx(db, (tx) => {
    const last = tx
      .select({ v: sql<number>`coalesce(max(${configDocuments.version}), 0)` })
      .from(configDocuments)
      .get();
    const version = (last?.v ?? 0) + 1;
    const doc = signDocument({ version, config, issuedAt: new Date(now).toISOString() }, deps.serverKey);
    const row = {
      version,
      hash: doc.hash,
      document: canonicalJson(doc),
      comment: input.comment ?? null,
      createdAt: now,
      createdBy: actor,
    };
    tx.insert(configDocuments).values(row).run();
    writeAudit(tx, {
      actor,
      action: 'config.create',
      entityType: 'config',
      entityId: String(version),
      after: { version, hash: doc.hash, comment: row.comment },
    });
    return {
      version,
      hash: doc.hash,
      issuedAt: doc.issuedAt,
      comment: row.comment,
      createdAt: now,
      createdBy: actor,
    };
  });
}

const documentCache = new WeakMap<FleetDb, Map<number, SignedConfigDocument>>();

/** The signed document of a version (documents never change, so they are cached). */
export function getConfigDocument(db: FleetDb, version: number): SignedConfigDocument {
  let cache = documentCache.get(db);
  if (!cache) {
    cache = new Map();
    documentCache.set(db, cache);
  }
  const hit = cache.get(version);
  if (hit) return hit;
  const row = db.select().from(configDocuments).where(eq(configDocuments.version, version)).get();
  if (!row) throw new NotFoundError('config version', String(version), { path: 'version' });
  const doc = JSON.parse(row.document) as SignedConfigDocument;
  cache.set(version, doc);
  return doc;
}

export function listConfigDocuments(db: FleetDb, limit = 100): ConfigSummary[] {
  return db
    .select()
    .from(configDocuments)
    .orderBy(desc(configDocuments.version))
    .limit(limit)
    .all()
    .map((r) => {
      const doc = JSON.parse(r.document) as SignedConfigDocument;
      return {
        version: r.version,
        hash: r.hash,
        issuedAt: doc.issuedAt,
        comment: r.comment,
        createdAt: r.createdAt,
        createdBy: r.createdBy,
      };
    });
}
