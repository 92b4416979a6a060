// The journal's SQLite file: opening it with the checks that refuse foreign or damaged files, the
// schema (v2: records in chunks), and the upgrade of a v1 journal (one row per record) in place.
//
// Settings and what each trades (gateway/README.md, "Wear"):
// - page_size 4096: a 10-second group of a 20-meter site (~4 KB of readings) is one page and
//   its overflow, written once to the WAL and once by the checkpoint.
// - journal_mode WAL, synchronous FULL: every group commit is on the card (fsync) before the
//   firmware gets its ack; the WAL survives a power cut in the middle of a commit (the commit is
//   then simply absent). FULL costs one fsync per group, which is why groups are ~10 s apart.
// - wal_autocheckpoint 1000 pages (default): the WAL file is reused from its start after each
//   checkpoint, so it does not grow, and pages written several times between two checkpoints
//   (the chunk table's last leaf, the counters) reach the database file once.
import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { JournalCorruptError, JournalForeignError, JournalWriteError } from '../errors.ts';

/** 'BRNA' — lets `file` and this code tell a Brána journal from any other SQLite file. */
export const JOURNAL_APPLICATION_ID = 0x42524e41;
export const JOURNAL_SCHEMA_VERSION = 2;
export const JOURNAL_PAGE_SIZE = 4096;
const SQLITE_HEADER = 'SQLite format 3\u0000';

export interface OpenedStore {
  db: Database.Database;
  /** Set when a damaged journal was moved aside and a new one started. */
  quarantinedFrom: string | undefined;
  /** The schema version the file had before (1 when it was upgraded now, 0 when new). */
  upgradedFrom: number;
}

/** A v1 record row, handed to the upgrade. */
export interface V1Row {
  id: number;
  upload_seq: number | null;
  source: string;
  boot_epoch: number;
  seq: number;
  kind: string;
  body: string;
}

/**
 * Opens (or creates) the journal file. A file that is not SQLite or fails quick_check is moved to
 * `<file>.corrupt-<ms>` when `quarantineCorrupt` is set; a database of another program or a newer
 * schema is refused and never touched. `upgradeV1` turns v1 rows into chunks inside the upgrade's
 * transaction.
 */
export function openStore(
  file: string,
  options: {
    quarantineCorrupt: boolean;
    nowMs: number;
    upgradeV1: (db: Database.Database, rows: (afterId: number) => V1Row[]) => void;
  },
): OpenedStore {
  let quarantinedFrom: string | undefined;
  let db: Database.Database;
  try {
    db = openChecked(file);
  } catch (err) {
    if (!(err instanceof JournalCorruptError) || !options.quarantineCorrupt) throw err;
    const aside = `${file}.corrupt-${options.nowMs}`;
    renameSync(file, aside);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    quarantinedFrom = aside;
    db = openChecked(file);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  try {
    if (version === 1) upgradeFromV1(db, options.upgradeV1);
    initSchema(db, options.nowMs);
  } catch (err) {
    db.close();
    throw writeError(file, err);
  }
  return { db, quarantinedFrom, upgradedFrom: version };
}

/** Maps a SQLite error to the gateway's typed errors (disk full, damage, anything else). */
export function writeError(file: string, err: unknown): Error {
  if (err instanceof JournalCorruptError || err instanceof JournalWriteError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_FULL') return new JournalWriteError(file, 'the disk is full', err);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new JournalCorruptError(file, `damaged while writing (${(err as Error).message})`, err);
  }
  return new JournalWriteError(file, `write failed (${(err as Error).message})`, err);
}

function openChecked(file: string): Database.Database {
  const fresh = !existsSync(file) || statSync(file).size === 0;
  if (!fresh) {
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
    // The page size only takes on a database with no pages yet.
    if (fresh) db.pragma(`page_size = ${JOURNAL_PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
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

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- One row per chunk (a group of records written together). Small, so that numbering a chunk for
  -- upload rewrites a few bytes of a leaf page, not the chunk's body.
  CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    lane TEXT NOT NULL,            -- 'reading' | 'event' (critical and event) | 'bulk'
    epoch INTEGER,                 -- upload epoch, once numbered
    first_seq INTEGER,             -- upload seq of the first record, once numbered (NULL: unsent)
    records INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    critical INTEGER NOT NULL,
    events INTEGER NOT NULL,
    bulk INTEGER NOT NULL,
    safety INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS chunk_bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS source_marks (
    source TEXT NOT NULL,
    boot_epoch INTEGER NOT NULL,
    max_seq INTEGER NOT NULL,
    PRIMARY KEY (source, boot_epoch)
  );
  CREATE TABLE IF NOT EXISTS channels (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    unit TEXT,
    kind TEXT
  );
  -- Records the fleet server refused (kept, counted, shown); a stand-in took their upload number.
  CREATE TABLE IF NOT EXISTS quarantine (
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    record TEXT,
    PRIMARY KEY (epoch, seq)
  );
`;

function initSchema(db: Database.Database, nowMs: number): void {
  db.exec(SCHEMA);
  db.pragma(`application_id = ${JOURNAL_APPLICATION_ID}`);
  db.pragma(`user_version = ${JOURNAL_SCHEMA_VERSION}`);
  // A fresh journal starts a fresh upload stream; the epoch (creation time, ms) never repeats.
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('uploadEpoch', ?)").run(String(nowMs));
}

/** v1 kept one row per record; v2 chunks them. Done in one transaction, then the file is rebuilt. */
function upgradeFromV1(
  db: Database.Database,
  upgrade: (db: Database.Database, rows: (afterId: number) => V1Row[]) => void,
): void {
  const page = db.prepare(
    'SELECT id, upload_seq, source, boot_epoch, seq, kind, body FROM records WHERE id > ? ORDER BY id LIMIT 5000',
  );
  db.transaction(() => {
    db.exec(SCHEMA);
    upgrade(db, (afterId) => page.all(afterId) as V1Row[]);
    db.exec('DROP TABLE records');
    for (const key of (
      db.prepare("SELECT key FROM meta WHERE key LIKE 'counter.%'").all() as { key: string }[]
    ).map((r) => r.key))
      db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    db.pragma(`user_version = ${JOURNAL_SCHEMA_VERSION}`);
  })();
  // Rebuild with this version's page size (only possible outside WAL mode).
  if ((db.pragma('page_size', { simple: true }) as number) !== JOURNAL_PAGE_SIZE) {
    db.pragma('journal_mode = DELETE');
    db.pragma(`page_size = ${JOURNAL_PAGE_SIZE}`);
    db.exec('VACUUM');
    db.pragma('journal_mode = WAL');
  }
}
