// The audit log: who changed what and when, written in the same transaction as the change, with
// its API and the console's audit page.
export { auditApi } from './api.ts';
export { type AuditPagesDeps, auditPages } from './pages.tsx';
export { type AuditEntry, type AuditQuery, listAudit, revokeWithAudit, writeAudit } from './store.ts';
