// The durable journal: firmware records grouped in memory and committed to SQLite (WAL) before
// they are acked, kept until the fleet server acked their upload; class quotas, disk-full policy,
// quarantine of records the server refuses.
export type { JournalRecord } from './chunk-codec.ts';
export {
  type ClassQuota,
  type ClassRules,
  DEFAULT_CLASS_RULES,
  DEFAULT_QUOTAS,
  type RecordClass,
} from './classes.ts';
export {
  AGENT_SOURCE,
  type AppendResult,
  type DiskState,
  type DroppedCounts,
  Journal,
  type JournalOptions,
  type JournalStats,
  type QuarantinedRecord,
  type RecordKind,
  type SubmitResult,
  type UploadRow,
} from './journal.ts';
export { JOURNAL_APPLICATION_ID, JOURNAL_SCHEMA_VERSION } from './store.ts';
