// Claim tokens: single use, expiring, with a pre-assigned site, group and tags; one at a time or
// one per row of a CSV file (all rows or none). Only a token's hash is stored.
import { randomBytes, randomUUID } from 'node:crypto';
import { desc, eq, or } from 'drizzle-orm';
import { revokeWithAudit, writeAudit } from '../audit/index.ts';
import { hashSecret } from '../auth/index.ts';
import { CsvError, parseCsv } from '../csv/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { requireGroup, requireSite } from '../devices/index.ts';
import { BadRequestError } from '../errors.ts';

const { claimTokens, groups, sites } = schema;

export const CLAIM_TOKEN_PREFIX = 'brc_';
export const DEFAULT_CLAIM_TTL_S = 7 * 24 * 3600;

export interface ClaimTokenInput {
  gatewayName?: string | undefined;
  siteId?: string | undefined;
  groupId?: string | undefined;
  tags?: string[] | undefined;
  expiresInS?: number | undefined;
}

export interface CreatedClaimToken {
  id: string;
  /** Shown once; only its hash is stored. */
  token: string;
  expiresAt: number;
  gatewayName: string | null;
  siteId: string | null;
  groupId: string | null;
  tags: string[];
}

export function createClaimToken(
  db: FleetDb,
  input: ClaimTokenInput,
  actor: string,
  now = Date.now(),
): CreatedClaimToken {
  return writeTx(db, (tx) => insertClaim(tx, input, actor, now));
}

function insertClaim(db: FleetDb, input: ClaimTokenInput, actor: string, now: number): CreatedClaimToken {
  if (input.siteId) requireSite(db, input.siteId);
  if (input.groupId) requireGroup(db, input.groupId);
  const token = CLAIM_TOKEN_PREFIX + randomBytes(24).toString('base64url');
  const row = {
    id: `clm_${randomUUID()}`,
    tokenHash: hashSecret(token),
    gatewayName: input.gatewayName ?? null,
    siteId: input.siteId ?? null,
    groupId: input.groupId ?? null,
    tags: input.tags ?? [],
    createdAt: now,
    createdBy: actor,
    expiresAt: now + (input.expiresInS ?? DEFAULT_CLAIM_TTL_S) * 1000,
  };
  db.insert(claimTokens).values(row).run();
  const { tokenHash: _h, ...visible } = row;
  writeAudit(db, {
    actor,
    action: 'claim.create',
    entityType: 'claimToken',
    entityId: row.id,
    after: visible,
  });
  return {
    id: row.id,
    token,
    expiresAt: row.expiresAt,
    gatewayName: row.gatewayName,
    siteId: row.siteId,
    groupId: row.groupId,
    tags: row.tags,
  };
}

export function listClaimTokens(db: FleetDb, now = Date.now()) {
  return db
    .select()
    .from(claimTokens)
    .orderBy(desc(claimTokens.createdAt))
    .all()
    .map(({ tokenHash: _h, ...r }) => ({
      ...r,
      state: r.revokedAt ? 'revoked' : r.usedAt ? 'used' : r.expiresAt <= now ? 'expired' : 'open',
    }));
}

export function revokeClaimToken(db: FleetDb, id: string, actor: string, now = Date.now()): void {
  revokeWithAudit(db, 'claimToken', id, actor, now);
}

const CSV_COLUMNS = ['name', 'site', 'group', 'tags', 'expiresInDays'] as const;

/**
 * Bulk pre-registration: one claim token per CSV row. Header row required, columns (any order):
 * name, site, group (id or name), tags (separated by ";"), expiresInDays. All rows or none.
 */
export function importClaimTokensCsv(
  db: FleetDb,
  csv: string,
  actor: string,
  now = Date.now(),
): CreatedClaimToken[] {
  let rows: ReturnType<typeof parseCsv>;
  try {
    rows = parseCsv(csv);
  } catch (e) {
    if (e instanceof CsvError) throw new BadRequestError(`CSV ${e.message}`, { code: e.code, path: e.path });
    throw e;
  }
  const [header, ...body] = rows;
  if (!header)
    throw new BadRequestError('CSV is empty; the first line must name the columns: ' + CSV_COLUMNS.join(','));
  const cols = header.fields.map((f) => f.trim());
  cols.forEach((c, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(c)) {
      throw new BadRequestError(
        `CSV line 1, column ${i + 1}: unknown column ${JSON.stringify(c)}; use ${CSV_COLUMNS.join(', ')}`,
        { code: 'csv-invalid', path: 'line 1' },
      );
    }
  });
  return writeTx(db, (tx) => {
    // A site or group column holds an id or a name; it must name one that exists.
    const finders = {
      site: (v: string) =>
        tx
          .select({ id: sites.id })
          .from(sites)
          .where(or(eq(sites.id, v), eq(sites.name, v)))
          .get()?.id,
      group: (v: string) =>
        tx
          .select({ id: groups.id })
          .from(groups)
          .where(or(eq(groups.id, v), eq(groups.name, v)))
          .get()?.id,
    };
    return body.map((row) => {
      const get = (c: (typeof CSV_COLUMNS)[number]) => {
        const i = cols.indexOf(c);
        return i < 0 ? '' : (row.fields[i] ?? '').trim();
      };
      const where = (c: string) => ({ code: 'csv-invalid', path: `line ${row.line}.${c}` });
      if (row.fields.length !== cols.length) {
        throw new BadRequestError(
          `CSV line ${row.line}: ${row.fields.length} fields, the header has ${cols.length}`,
          where('*'),
        );
      }
      const existing = (column: keyof typeof finders): string | undefined => {
        const name = get(column);
        if (!name) return undefined;
        const id = finders[column](name);
        if (!id) {
          throw new BadRequestError(
            `CSV line ${row.line}, column ${column}: no ${column} ${JSON.stringify(name)}; create it first`,
            where(column),
          );
        }
        return id;
      };
      const siteId = existing('site');
      const groupId = existing('group');
      const days = get('expiresInDays');
      const expiresInDays = days ? Number(days) : 7;
      if (!Number.isFinite(expiresInDays) || expiresInDays <= 0 || expiresInDays > 365) {
        throw new BadRequestError(
          `CSV line ${row.line}, column expiresInDays: ${JSON.stringify(days)} is not a number of days between 0 and 365`,
          where('expiresInDays'),
        );
      }
      const tags = get('tags')
        .split(';')
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
      return insertClaim(
        tx,
        { gatewayName: get('name') || undefined, siteId, groupId, tags, expiresInS: expiresInDays * 86400 },
        actor,
        now,
      );
    });
  });
}
