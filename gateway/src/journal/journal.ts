// The agent's durable journal: everything the firmware sends is committed here (SQLite, WAL,
// synchronous FULL) before it is acked, and stays until the fleet server acked its upload.
// Records keep their firmware key (source, bootEpoch, seq), and the highest seq committed per
// (source, bootEpoch) is kept even after the rows are trimmed, so a resend after an agent crash is
// recognised however long ago the original was uploaded; each also gets an upload number (uploadEpoch, uploadSeq) when first sent, which is
// what the server deduplicates and acks. Over the quota, the oldest unsent readings are evicted;
// events (safety or not) never are.
import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import type { SequencedRecord } from '@brana/firmware';
import Database from 'better-sqlite3';
import { JournalCorruptError, JournalForeignError, JournalWriteError } from '../errors.ts';

/** 'BRNA' — lets `file` and this code tell a Brána journal from any other SQLite file. */
/** A record to commit: the firmware's (source rt, fieldbus) or the agent's own events (source agent). */
export type JournalRecord = Omit<SequencedRecord, 'source'> & { source: string };

export const JOURNAL_APPLICATION_ID = 0x42524e41;
export const JOURNAL_SCHEMA_VERSION = 1;
const SQLITE_HEADER = 'SQLite format 3\u0000';

export type RecordKind = 'reading' | 'event' | 'status';

export interface JournalOptions {
  path: string;
  /** Bytes of live pages the journal may use (default 256 MiB); readings are evicted beyond it. */
  quotaBytes?: number;
  /** A damaged file is renamed to `<path>.corrupt-<ms>` and a new journal started, instead of failing. */
  quarantineCorrupt?: boolean;
  nowMs?: () => number;
}

/** A row ready for upload, numbered in the upload stream. */
export interface UploadRow {
  uploadEpoch: number;
  uploadSeq: number;
  source: string;
  sourceBootEpoch: number;
  sourceSeq: number;
  kind: RecordKind;
  safety: boolean;
  atMs: number;
  /** The firmware record as received (validated). */
  body: SequencedRecord['record'];
}

export interface JournalStats {
  file: string;
  uploadEpoch: number;
  records: number;
  readings: number;
  events: number;
  safetyEvents: number;
  unsent: number;
  inFlight: number;
  usedBytes: number;
  quotaBytes: number;
  committed: number;
  duplicates: number;
  evictedReadings: number;
  acked: number;
  /** Set when a damaged journal was quarantined at open. */
  quarantinedFrom: string | undefined;
}

export interface AppendResult {
  inserted: number;
  duplicates: number;
  evicted: number;
}

interface Counters {
  committed: number;
  duplicates: number;
  evictedReadings: number;
  acked: number;
}

interface Row {
  id: number;
  upload_seq: number | null;
  source: string;
  boot_epoch: number;
  seq: number;
  kind: RecordKind;
  safety: number;
  at_ms: number;
  body: string;
}

export class Journal {
  readonly file: string;
  readonly uploadEpoch: number;
  readonly quotaBytes: number;
  readonly quarantinedFrom: string | undefined;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #appendTx: (records: JournalRecord[]) => { inserted: number; duplicates: number };
  readonly #pageSize: number;
  #nextUploadSeq: number;
  #counters: Counters = { committed: 0, duplicates: 0, evictedReadings: 0, acked: 0 };
  #closed = false;

  private constructor(
    file: string,
    db: Database.Database,
    quotaBytes: number,
    quarantinedFrom: string | undefined,
  ) {
    this.file = file;
    this.#db = db;
    this.quotaBytes = quotaBytes;
    this.quarantinedFrom = quarantinedFrom;
    this.#pageSize = db.pragma('page_size', { simple: true }) as number;
    const meta = (key: string) =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    this.uploadEpoch = Number(meta('uploadEpoch'));
    for (const k of Object.keys(this.#counters) as (keyof Counters)[]) {
      this.#counters[k] = Number(meta(`counter.${k}`) ?? 0);
    }
    const maxSeq = db.prepare('SELECT MAX(upload_seq) AS m FROM records').get() as { m: number | null };
    this.#nextUploadSeq = Math.max(Number(meta('nextUploadSeq') ?? 1), (maxSeq.m ?? 0) + 1);
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO records (source, boot_epoch, seq, kind, safety, at_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const getMark = db.prepare('SELECT max_seq AS m FROM source_marks WHERE source = ? AND boot_epoch = ?');
    const putMark = db.prepare(
      'INSERT OR REPLACE INTO source_marks (source, boot_epoch, max_seq) VALUES (?, ?, ?)',
    );
    this.#appendTx = db.transaction((records: JournalRecord[]) => {
      let inserted = 0;
      const marks = new Map<string, { source: string; bootEpoch: number; max: number; changed: boolean }>();
      for (const r of records) {
        const key = `${r.source}:${r.bootEpoch}`;
        let mark = marks.get(key);
        if (!mark) {
          const row = getMark.get(r.source, r.bootEpoch) as { m: number } | undefined;
          mark = { source: r.source, bootEpoch: r.bootEpoch, max: row?.m ?? 0, changed: false };
          marks.set(key, mark);
        }
        // Firmware sends each stream in order and resends only what was not acked, so anything at
        // or below the mark was committed before (and may already be uploaded and trimmed).
        if (r.seq <= mark.max) continue;
        mark.max = r.seq;
        mark.changed = true;
        const safety = r.record.kind === 'event' && r.record.safety ? 1 : 0;
        const info = this.#insert.run(
          r.source,
          r.bootEpoch,
          r.seq,
          r.record.kind,
          safety,
          Math.round(r.record.atMs),
          JSON.stringify(r.record),
        );
        inserted += info.changes;
      }
      for (const m of marks.values()) if (m.changed) putMark.run(m.source, m.bootEpoch, m.max);
      const duplicates = records.length - inserted;
      this.#counters.committed += inserted;
      this.#counters.duplicates += duplicates;
      this.#saveCounters();
      return { inserted, duplicates };
    });
  }

  /** Opens (or creates) the journal; refuses foreign or damaged files with a clear error. */
  static open(options: JournalOptions): Journal {
    const file = options.path;
    const quota = options.quotaBytes ?? 256 * 1024 * 1024;
    const now = options.nowMs ?? Date.now;
    let quarantinedFrom: string | undefined;
    let db: Database.Database;
    try {
      db = openChecked(file);
    } catch (err) {
      if (!(err instanceof JournalCorruptError) || !options.quarantineCorrupt) throw err;
      const aside = `${file}.corrupt-${now()}`;
      renameSync(file, aside);
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      }
      quarantinedFrom = aside;
      db = openChecked(file);
    }
    initSchema(db, now());
    return new Journal(file, db, quota, quarantinedFrom);
  }

  /** Commits a batch from the firmware in one transaction; duplicates (resends) are ignored. */
  append(records: JournalRecord[]): AppendResult {
    let result: { inserted: number; duplicates: number };
    try {
      result = this.#appendTx(records);
    } catch (err) {
      throw this.#writeError(err);
    }
    const evicted = this.#enforceQuota();
    return { ...result, evicted };
  }

  /**
   * Rows sent but not yet acked by the server, in upload order: resent first after a reconnect,
   * so the server's contiguous ack can advance.
   */
  inFlight(limit: number, afterSeq = 0): UploadRow[] {
    const rows = this.#db
      .prepare('SELECT * FROM records WHERE upload_seq > ? ORDER BY upload_seq LIMIT ?')
      .all(afterSeq, limit) as Row[];
    return rows.map((r) => this.#toUpload(r));
  }

  /**
   * Numbers up to `limit` unsent rows for upload and returns them. `lane` 'live' takes rows
   * committed after `liveFromId` (oldest of them first); 'backlog' takes the oldest rows before it.
   */
  takeUnsent(limit: number, lane: 'live' | 'backlog' | 'all', liveFromId = 0): UploadRow[] {
    if (limit <= 0) return [];
    const where =
      lane === 'live'
        ? 'upload_seq IS NULL AND id > ?'
        : lane === 'backlog'
          ? 'upload_seq IS NULL AND id <= ?'
          : 'upload_seq IS NULL AND ? IS NOT NULL';
    const take = this.#db.transaction(() => {
      const rows = this.#db
        .prepare(`SELECT * FROM records WHERE ${where} ORDER BY id LIMIT ?`)
        .all(liveFromId, limit) as Row[];
      const assign = this.#db.prepare('UPDATE records SET upload_seq = ? WHERE id = ?');
      for (const r of rows) {
        r.upload_seq = this.#nextUploadSeq++;
        assign.run(r.upload_seq, r.id);
      }
      this.#db
        .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('nextUploadSeq', ?)")
        .run(String(this.#nextUploadSeq));
      return rows;
    });
    try {
      return take().map((r) => this.#toUpload(r));
    } catch (err) {
      throw this.#writeError(err);
    }
  }

  /** Lowest row id still held (not yet acked by the server); 0 when the journal is empty. */
  firstId(): number {
    return (this.#db.prepare('SELECT COALESCE(MIN(id), 0) AS m FROM records').get() as { m: number }).m;
  }

  /** Highest row id now; rows after it are "live" for the uploader. */
  lastId(): number {
    return (this.#db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM records').get() as { m: number }).m;
  }

  /** The server stored everything up to `seq` of `uploadEpoch`: trim it. Other epochs are ignored. */
  ack(uploadEpoch: number, seq: number): number {
    if (uploadEpoch !== this.uploadEpoch) return 0;
    const info = this.#db
      .prepare('DELETE FROM records WHERE upload_seq IS NOT NULL AND upload_seq <= ?')
      .run(seq);
    this.#counters.acked += info.changes;
    this.#saveCounters();
    return info.changes;
  }

  stats(): JournalStats {
    const c = this.#db
      .prepare(
        `SELECT COUNT(*) AS records,
                COALESCE(SUM(kind = 'reading'), 0) AS readings,
                COALESCE(SUM(kind = 'event'), 0) AS events,
                COALESCE(SUM(safety), 0) AS safetyEvents,
                COALESCE(SUM(upload_seq IS NULL), 0) AS unsent,
                COALESCE(SUM(upload_seq IS NOT NULL), 0) AS inFlight
         FROM records`,
      )
      .get() as Record<string, number>;
    return {
      file: this.file,
      uploadEpoch: this.uploadEpoch,
      records: c.records ?? 0,
      readings: c.readings ?? 0,
      events: c.events ?? 0,
      safetyEvents: c.safetyEvents ?? 0,
      unsent: c.unsent ?? 0,
      inFlight: c.inFlight ?? 0,
      usedBytes: this.#usedBytes(),
      quotaBytes: this.quotaBytes,
      ...this.#counters,
      quarantinedFrom: this.quarantinedFrom,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #usedBytes(): number {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const free = this.#db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * this.#pageSize;
  }

  /** Evicts the oldest unsent readings until the live pages fit in the quota again. */
  #enforceQuota(): number {
    let evicted = 0;
    for (let round = 0; round < 50; round++) {
      const used = this.#usedBytes();
      if (used <= this.quotaBytes) break;
      const { n } = this.#db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number };
      if (n === 0) break;
      // Free a tenth more than the excess, so that eviction runs in chunks, not on every batch.
      const bytesPerRow = used / n;
      const want = Math.max(1, Math.ceil((used - this.quotaBytes * 0.9) / bytesPerRow));
      const info = this.#db
        .prepare(
          "DELETE FROM records WHERE id IN (SELECT id FROM records WHERE kind = 'reading' AND upload_seq IS NULL ORDER BY id LIMIT ?)",
        )
        .run(want);
      if (info.changes === 0) break;
      evicted += info.changes;
    }
    if (evicted > 0) {
      this.#counters.evictedReadings += evicted;
      this.#saveCounters();
    }
    return evicted;
  }

  #saveCounters(): void {
    const put = this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(this.#counters)) put.run(`counter.${k}`, String(v));
  }

  #toUpload(r: Row): UploadRow {
    return {
      uploadEpoch: this.uploadEpoch,
      uploadSeq: r.upload_seq!,
      source: r.source,
      sourceBootEpoch: r.boot_epoch,
      sourceSeq: r.seq,
      kind: r.kind,
      safety: r.safety === 1,
      atMs: r.at_ms,
      body: JSON.parse(r.body) as SequencedRecord['record'],
    };
  }

  #writeError(err: unknown): Error {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_FULL') return new JournalWriteError(this.file, 'the disk is full', err);
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      return new JournalCorruptError(this.file, `damaged while writing (${(err as Error).message})`, err);
    }
    return new JournalWriteError(this.file, `write failed (${(err as Error).message})`, err);
  }
}

function openChecked(file: string): Database.Database {
  if (existsSync(file) && statSync(file).size > 0) {
    const header = Buffer.alloc(16);
    const fd = openSync(file, 'r');
    const n = readSync(fd, header, 0, 16, 0);
    closeSync(fd);
    if (n < 16 || header.toString('latin1') !== SQLITE_HEADER) {
      throw new JournalCorruptError(
        file,
        `not a SQLite database (the first bytes are ${JSON.stringify(
          header
            .subarray(0, n)
            .toString('latin1')
            .replace(/[^\x20-\x7e]/g, '.'),
        )})`,
      );
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    if (appId !== JOURNAL_APPLICATION_ID && tables.length > 0) {
      db.close();
      throw new JournalForeignError(
        file,
        `is a SQLite database of another application (application_id 0x${appId.toString(16)}, tables ${tables.slice(0, 5).join(', ')})`,
        'point the agent at its own data directory (dataDir), or move this file away if it is not needed',
      );
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > JOURNAL_SCHEMA_VERSION) {
      db.close();
      throw new JournalForeignError(
        file,
        `was written by a newer Brána (journal schema ${version}, this agent knows ${JOURNAL_SCHEMA_VERSION})`,
        'upgrade the agent, or move the file aside after uploading its contents with the newer agent',
      );
    }
    const check = db.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok') {
      db.close();
      throw new JournalCorruptError(file, `failed the integrity check (${check})`);
    }
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the ack goes out, even across a power cut.
    db.pragma('synchronous = FULL');
    return db;
  } catch (err) {
    if (err instanceof JournalForeignError || err instanceof JournalCorruptError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new JournalCorruptError(file, `cannot be read as SQLite (${(err as Error).message})`, err);
    }
    throw new JournalWriteError(file, `cannot be opened (${(err as Error).message})`, err);
  }
}

function initSchema(db: Database.Database, nowMs: number): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS records (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      source TEXT NOT NULL,
      boot_epoch INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      kind TEXT NOT NULL,
      safety INTEGER NOT NULL,
      at_ms INTEGER NOT NULL,
      body TEXT NOT NULL,
      upload_seq INTEGER,
      UNIQUE (source, boot_epoch, seq)
    );
    CREATE TABLE IF NOT EXISTS source_marks (
      source TEXT NOT NULL,
      boot_epoch INTEGER NOT NULL,
      max_seq INTEGER NOT NULL,
      PRIMARY KEY (source, boot_epoch)
    );
    CREATE INDEX IF NOT EXISTS records_upload ON records (upload_seq) WHERE upload_seq IS NOT NULL;
  `);
  db.pragma(`application_id = ${JOURNAL_APPLICATION_ID}`);
  db.pragma(`user_version = ${JOURNAL_SCHEMA_VERSION}`);
  // A fresh journal starts a fresh upload stream; the epoch (creation time, ms) never repeats.
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('uploadEpoch', ?)").run(String(nowMs));
}
