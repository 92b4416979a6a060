// The local API's own SQLite file (`<dataDir>/local-api.db`): token hashes, operator alarm states and
// the history (last value per channel, quarter-hour rollups). Apart from the journal, which keeps
// records only until the fleet acked them; losing this file loses history, never a reading.
import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';

/** 'BRLA' — tells this file from the journal and from other programs' databases. */
const APPLICATION_ID = 0x42524c41;
const SCHEMA_VERSION = 1;

export interface OpenedStore {
  db: Database.Database;
  /** Set when a damaged or foreign file was moved aside at open. */
  movedAside: string | undefined;
}

export function openLocalStore(path: string, nowMs = Date.now()): OpenedStore {
  let movedAside: string | undefined;
  let db: Database.Database;
  try {
    db = openChecked(path);
  } catch (err) {
    // History and alarm states are a convenience; a file that cannot be used is set aside and a
    // new one started rather than keeping the gateway's API down. Tokens are minted again at start.
    if (!existsSync(path)) throw err;
    movedAside = `${path}.unusable-${nowMs}`;
    renameSync(path, movedAside);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, movedAside + suffix);
    }
    db = openChecked(path);
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS tokens (
      name TEXT PRIMARY KEY, scopes TEXT NOT NULL, hash BLOB NOT NULL, created_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS alarms (
      name TEXT PRIMARY KEY, state TEXT NOT NULL, severity TEXT NOT NULL, text TEXT NOT NULL,
      origin TEXT, raised_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL, by TEXT);
    CREATE TABLE IF NOT EXISTS last_values (
      channel TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, value TEXT NOT NULL, quality TEXT NOT NULL,
      unit TEXT, kind TEXT);
    CREATE TABLE IF NOT EXISTS gauge_qh (
      channel TEXT NOT NULL, start_ms INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL,
      min REAL NOT NULL, max REAL NOT NULL, unit TEXT, PRIMARY KEY (channel, start_ms)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS interval_qh (
      channel TEXT NOT NULL, start_ms INTEGER NOT NULL, delta REAL NOT NULL, quality TEXT NOT NULL,
      unit TEXT, PRIMARY KEY (channel, start_ms)) WITHOUT ROWID;
  `);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  return { db, movedAside };
}

function openChecked(path: string): Database.Database {
  const db = new Database(path);
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    };
    if (appId !== APPLICATION_ID && tables.n > 0) throw new Error('not a local API store');
    if ((db.pragma('user_version', { simple: true }) as number) > SCHEMA_VERSION) {
      throw new Error('written by a newer Brána');
    }
    db.pragma('journal_mode = WAL');
    // FULL: an alarm state the API answered for survives a power cut. History is written in one
    // transaction every few seconds, so the fsyncs cost little.
    db.pragma('synchronous = FULL');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
