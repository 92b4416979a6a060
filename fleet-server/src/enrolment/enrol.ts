// Enrolment: a gateway trades a claim token and its own Ed25519 public key for a gateway id, and
// pins the server's key from the answer. Every refusal says why and what to ask for.
import {
  type EnrolRequest,
  type EnrolResponse,
  GATEWAY_WS_PATH,
  publicKeyFromBase64url,
} from '@brana/protocol';
import { eq } from 'drizzle-orm';
import { writeAudit } from '../audit/index.ts';
import { hashSecret } from '../auth/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { newGatewayId, nextGatewayNum } from '../devices/index.ts';
import { BadRequestError, ConflictError, FleetError } from '../errors.ts';

const { claimTokens, gatewayGroups, gateways, gatewayTags } = schema;

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
