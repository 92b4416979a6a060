// Bringing a gateway into the fleet: claim tokens (one, or many from CSV) that technicians hand
// out, the enrolment that trades one for a gateway id, their API and the claim-token page.
export { type EnrolmentDeps, enrolmentApi } from './api.ts';
export {
  CLAIM_TOKEN_PREFIX,
  type ClaimTokenInput,
  type CreatedClaimToken,
  createClaimToken,
  DEFAULT_CLAIM_TTL_S,
  importClaimTokensCsv,
  listClaimTokens,
  revokeClaimToken,
} from './claims.ts';
export { ClaimRefusedError, enrolGateway } from './enrol.ts';
export { enrolmentPages } from './pages.tsx';
