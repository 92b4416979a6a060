// The server's Ed25519 signing key: made on first start, kept in the database (protect the file),
// used to sign config documents and session answers; gateways pin its public half at enrolment.
export { loadServerKey, type ServerKey } from './store.ts';
