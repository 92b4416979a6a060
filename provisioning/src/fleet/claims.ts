// Creating claim tokens for gateways about to be installed: one or more for a site (and group), or
// one per line of a pre-registration CSV. Progress goes to `progress`; tokens are returned.
import { checkPreregistrationCsv } from '../validate/index.ts';
import type { ClaimRequest, CreatedClaim, FleetClient } from './client.ts';

export interface CreateClaimsInput {
  site: string;
  group?: string;
  count: number;
  expiresS: number;
  /** Gateway name; with count > 1 each gets -01, -02, … */
  name?: string;
  tags?: string[];
}

export interface ClaimBatch {
  site: { id: string; name: string };
  group?: { id: string; name: string };
  claims: CreatedClaim[];
}

export async function createClaims(
  client: FleetClient,
  input: CreateClaimsInput,
  progress: (line: string) => void = () => {},
): Promise<ClaimBatch> {
  const site = await client.resolveSite(input.site);
  const group = input.group === undefined ? undefined : await client.resolveGroup(input.group);
  const claims: CreatedClaim[] = [];
  const width = String(input.count).length < 2 ? 2 : String(input.count).length;
  for (let i = 1; i <= input.count; i++) {
    const req: ClaimRequest = {
      siteId: site.id,
      ...(group ? { groupId: group.id } : {}),
      ...(input.tags && input.tags.length > 0 ? { tags: input.tags } : {}),
      expiresInHours: input.expiresS / 3600,
      ...(input.name
        ? { gatewayName: input.count > 1 ? `${input.name}-${String(i).padStart(width, '0')}` : input.name }
        : {}),
    };
    claims.push(await client.createClaimToken(req));
    if (input.count > 1 && (i % 10 === 0 || i === input.count))
      progress(`created ${i}/${input.count} claim tokens`);
  }
  return {
    site: { id: site.id, name: site.name },
    ...(group ? { group: { id: group.id, name: group.name } } : {}),
    claims,
  };
}

/** Checks the file locally (naming file:line), then sends it to the bulk endpoint: all rows or none. */
export async function importClaimsCsv(
  client: FleetClient,
  csv: string,
  file: string,
  progress: (line: string) => void = () => {},
): Promise<CreatedClaim[]> {
  const rows = checkPreregistrationCsv(csv, file);
  progress(`${file}: ${rows} gateway${rows === 1 ? '' : 's'}; sending to the server`);
  const claims = await client.importClaimTokensCsv(csv);
  progress(`created ${claims.length} claim tokens`);
  return claims;
}
