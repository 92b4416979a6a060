import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { openFleetDatabase } from './index.ts';

const MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const dir = mkdtempSync(join(tmpdir(), 'brana-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A database as the first release left it: only migration 0000 applied. */
function databaseAtInit(path: string): Database.Database {
  const only = join(dir, 'only-0000');
  mkdirSync(join(only, 'meta'), { recursive: true });
  copyFileSync(join(MIGRATIONS, '0000_init.sql'), join(only, '0000_init.sql'));
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8'));
  journal.entries = journal.entries.slice(0, 1);
  writeFileSync(join(only, 'meta/_journal.json'), JSON.stringify(journal));
  const sqlite = new Database(path);
  migrate(drizzle(sqlite), { migrationsFolder: only });
  return sqlite;
}

describe('migrations', () => {
  it('0001 keeps every rollup row and makes the table WITHOUT ROWID', () => {
    const path = join(dir, 'old.db');
    const old = databaseAtInit(path);
    const insert = old.prepare(
      'INSERT INTO rollups (channel_id, bucket_s, bucket_start, count, sum, min, max, first_ts, first, last_ts, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < 50; i++)
      insert.run(1 + (i % 3), 900, i * 900_000, i + 1, i * 1.5, -i, i, i, 0.25, i + 1, 0.5);
    const before = old.prepare('SELECT * FROM rollups ORDER BY channel_id, bucket_s, bucket_start').all();
    expect(old.prepare("SELECT sql FROM sqlite_master WHERE name = 'rollups'").pluck().get()).not.toMatch(
      /WITHOUT ROWID/,
    );
    old.close();

    const db = openFleetDatabase(path);
    try {
      expect(
        db.sqlite.prepare('SELECT * FROM rollups ORDER BY channel_id, bucket_s, bucket_start').all(),
      ).toStrictEqual(before);
      expect(db.sqlite.prepare("SELECT sql FROM sqlite_master WHERE name = 'rollups'").pluck().get()).toMatch(
        /WITHOUT ROWID/,
      );
      // the key still refuses a second row for one bucket
      expect(() =>
        db.sqlite
          .prepare(
            'INSERT INTO rollups (channel_id, bucket_s, bucket_start, count, sum, min, max, first_ts, first, last_ts, last) VALUES (1, 900, 0, 1, 1, 1, 1, 1, 1, 1, 1)',
          )
          .run(),
      ).toThrow(/UNIQUE|PRIMARY KEY/);
    } finally {
      db.close();
    }
  });
});
