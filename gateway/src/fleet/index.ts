// The fleet link: enrolment and identity (Ed25519 key made here, server key pinned), and the one
// WebSocket session that reconciles config and uploads the journal, live data first.

export { FleetLink, type FleetLinkOptions, type FleetLinkStats, type LinkState } from './fleet-link.ts';
export {
  AGENT_VERSION,
  type Enrolment,
  type EnrolOptions,
  enrol,
  type Identity,
  loadIdentity,
} from './identity.ts';
export { toWire } from './wire-records.ts';
