// Claim tokens (single use, expiring, with a pre-assigned site, group and tags) and enrolment:
// a gateway trades a claim token and its own Ed25519 public key for a gateway id.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type EnrolRequest,
  type EnrolResponse,
  GATEWAY_WS_PATH,
  publicKeyFromBase64url,
} from '@brana/protocol';
import { desc, eq, or } from 'drizzle-orm';
import { revokeWithAudit, writeAudit } from '../audit/index.ts';
import { hashSecret } from '../auth/users.ts';
import { type FleetDb, writeTx } from '../db/index.ts';
import { claimTokens, gatewayGroups, gateways, gatewayTags, groups, sites } from '../db/schema.ts';
import { BadRequestError, ConflictError, FleetError } from '../errors.ts';
import { CsvError, parseCsv } from './csv.ts';
import { newGatewayId, nextGatewayNum, requireGroup, requireSite } from './devices.ts';

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
    if (e instanceof CsvError)
      throw new BadRequestError(`CSV ${e.message}`, { code: 'csv-invalid', path: `line ${e.line}` });
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

export class ClaimRefusedError extends FleetError {
  constructor(code: 'claim-unknown' | 'claim-used' | 'claim-expired' | 'claim-revoked', message: string) {
    super(code, code === 'claim-used' ? 409 : 403, message, false, { path: 'claimToken' });
  }
}

export function enrolGateway(
  db: FleetDb,
  req: EnrolRequest,
  serverPublicKey: string,
  now = Date.now(),
): EnrolResponse {
  try {
    publicKeyFromBase64url(req.publicKey);
  } catch (e) {
    throw new BadRequestError(`publicKey: ${(e as Error).message}`, { path: 'publicKey' });
  }
  return writeTx(db, (tx) => {
    const claim = tx
      .select()
      .from(claimTokens)
      .where(eq(claimTokens.tokenHash, hashSecret(req.claimToken)))
      .get();
    if (!claim)
      throw new ClaimRefusedError(
        'claim-unknown',
        'claim token is not known; ask the fleet operator for a new one',
      );
    if (claim.revokedAt)
      throw new ClaimRefusedError('claim-revoked', 'claim token was revoked; ask for a new one');
    if (claim.usedAt) {
      throw new ClaimRefusedError(
        'claim-used',
        'claim token was already used; each token enrols one gateway, ask for a new one',
      );
    }
    if (claim.expiresAt <= now)
      throw new ClaimRefusedError('claim-expired', 'claim token has expired; ask for a new one');
    if (tx.select({ id: gateways.id }).from(gateways).where(eq(gateways.publicKey, req.publicKey)).get()) {
      throw new ConflictError('this public key is already enrolled; generate a new key on the device', {
        code: 'key-enrolled',
        path: 'publicKey',
      });
    }
    const id = newGatewayId();
    const row = {
      id,
      num: nextGatewayNum(tx),
      name: claim.gatewayName ?? req.hostname ?? id,
      siteId: claim.siteId,
      publicKey: req.publicKey,
      status: 'active' as const,
      enrolledAt: now,
      hostname: req.hostname ?? null,
      hardware: req.hardware ?? null,
      agentVersion: req.agentVersion ?? null,
    };
    tx.insert(gateways).values(row).run();
    const groupIds = claim.groupId ? [claim.groupId] : [];
    for (const g of groupIds) tx.insert(gatewayGroups).values({ gatewayId: id, groupId: g }).run();
    for (const t of new Set(claim.tags ?? [])) tx.insert(gatewayTags).values({ gatewayId: id, tag: t }).run();
    tx.update(claimTokens)
      .set({ usedAt: now, usedByGatewayId: id })
      .where(eq(claimTokens.id, claim.id))
      .run();
    writeAudit(tx, {
      actor: `claim:${claim.id}`,
      action: 'gateway.enrol',
      entityType: 'gateway',
      entityId: id,
      after: { ...row, groupIds, tags: claim.tags ?? [] },
    });
    return { gatewayId: id, serverPublicKey, siteId: claim.siteId, groupIds, wsPath: GATEWAY_WS_PATH };
  });
}
