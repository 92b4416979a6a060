import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from './checkpointer.ts';
import { openFleetDatabase } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('startCheckpointer', () => {
  it('copies committed pages into the database file from its worker; the connection itself no longer does', async () => {
    const db = openFleetDatabase(join(dir, 'fleet.db'));
    const checkpointer = startCheckpointer(db, { intervalMs: 20 });
    try {
      expect(db.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const before = statSync(db.path).size;
      const insert = db.sqlite.prepare(
        'INSERT INTO readings (gateway_num, boot_epoch, seq, channel_id, ts, value, quality) VALUES (1, 1, ?, 1, ?, 0, 0)',
      );
      db.sqlite.transaction(() => {
        for (let seq = 1; seq <= 20_000; seq++) insert.run(seq, seq);
      })();
      // Far past 1000 WAL pages: only a checkpoint moves them into the main file.
      await until(() => statSync(db.path).size > before + 400_000);
      expect(db.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(20_000);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('stops cleanly twice and leaves a closed database readable', async () => {
    const path = join(dir, 'second.db');
    const db = openFleetDatabase(path);
    const checkpointer = startCheckpointer(db, { intervalMs: 20 });
    await checkpointer.stop();
    await checkpointer.stop();
    db.close();
    const again = openFleetDatabase(path);
    expect(again.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(0);
    again.close();
  });
});
