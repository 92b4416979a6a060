// The fleet server's API as the technician uses it: resolve sites and groups, create claim tokens
// one by one or in bulk from a CSV. Errors say what the server said and how to fix it.
export { type ClaimBatch, type CreateClaimsInput, createClaims, importClaimsCsv } from './claims.ts';
export {
  type ClaimRequest,
  type CreatedClaim,
  FleetClient,
  type FleetClientOptions,
  type Group,
  type Site,
} from './client.ts';
