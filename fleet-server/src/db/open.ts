// Opening the fleet server's database: one SQLite file (WAL) with better-sqlite3, drizzle on top,
// migrations from fleet-server/drizzle applied at start; writes on the event loop go through writeTx.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { StartupError } from '../errors.ts';
import { loopWrite, registerWriteGate, WriteGate } from '../write-gate/index.ts';
import * as schema from './schema.ts';

export type FleetDb = BetterSQLite3Database<typeof schema>;

export interface FleetDatabase {
  /** drizzle handle */
  db: FleetDb;
  /** Keeps the telemetry writer thread from starting a transaction while the event loop writes. */
  writeGate: WriteGate;
  /** the underlying better-sqlite3 connection, for prepared statements on hot paths */
  sqlite: Database.Database;
  path: string;
  close(): void;
}

export const DEFAULT_DB_PATH = './.brana/fleet.db';
const MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export function openFleetDatabase(path: string): FleetDatabase {
  const full = path === ':memory:' ? path : resolve(path);
  let sqlite: Database.Database;
  try {
    if (full !== ':memory:') mkdirSync(dirname(full), { recursive: true });
    sqlite = new Database(full);
    sqlite.pragma('journal_mode = WAL');
  } catch (cause) {
    throw new StartupError(
      `cannot open database ${full}: ${(cause as Error).message}; pass a writable file with --db or BRANA_FLEET_DB`,
      { cause },
    );
  }
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  try {
    migrate(db, { migrationsFolder: MIGRATIONS });
  } catch (cause) {
    sqlite.close();
    throw new StartupError(
      `database ${full} cannot be migrated (${(cause as Error).message}); is it a Brána fleet database?`,
      { cause },
    );
  }
  const writeGate = new WriteGate();
  registerWriteGate(writeGate, db, sqlite);
  return { db, sqlite, writeGate, path: full, close: () => sqlite.close() };
}

/** The transaction handle drizzle passes to a transaction's callback. */
export type FleetTx = Parameters<Parameters<FleetDb['transaction']>[0]>[0];

/**
 * A transaction on the event loop's connection that writes. It begins IMMEDIATE: another
 * connection (the telemetry writer's thread, the checkpointer) may hold the write lock, and a
 * deferred transaction that read before that commit cannot write after it (SQLITE_BUSY_SNAPSHOT,
 * at once, whatever busy_timeout says), while an immediate one waits for the lock first. It runs
 * through the database's write gate (write-gate.ts), so that it waits for at most one of the
 * writer's transactions.
 */
export function writeTx<T>(db: FleetDb, fn: (tx: FleetTx) => T): T {
  return loopWrite(db, () => db.transaction(fn, { behavior: 'immediate' }));
}
