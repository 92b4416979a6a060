// The durable journal: firmware records committed to SQLite (WAL) before they are acked, kept
// until the fleet server acked their upload; a quota evicts the oldest readings, never events.
export {
  type AppendResult,
  JOURNAL_APPLICATION_ID,
  JOURNAL_SCHEMA_VERSION,
  Journal,
  type JournalOptions,
  type JournalRecord,
  type JournalStats,
  type RecordKind,
  type UploadRow,
} from './journal.ts';
