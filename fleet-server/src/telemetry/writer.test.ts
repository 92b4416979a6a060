import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@brana/protocol';
import { count } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type FleetDatabase, openFleetDatabase, schema, writeTx } from '../db/index.ts';
import { columnsFromRecords } from './columns.ts';
import { TelemetryStore } from './ingest.ts';
import { TelemetryWriter } from './writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const open: { db: FleetDatabase; writer: TelemetryWriter }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.writer.close();
    o.db.close();
  }
});

function setUp() {
  const db = openFleetDatabase(join(dir, `fleet-${n++}.db`));
  const writer = new TelemetryWriter({
    dbPath: db.path,
    fallback: new TelemetryStore(db.sqlite),
    loopConnection: db.sqlite,
    gate: db.writeGate,
  });
  open.push({ db, writer });
  return { db, writer };
}

const reading = (seq: number, bootEpoch = 1): ReadingRecord => ({
  bootEpoch,
  seq,
  ts: 1_700_000_000_000 + seq * 10_000,
  channel: `meter${seq % 3}.energyImportKWh`,
  value: seq % 11 === 0 ? null : seq * 0.5,
  quality: seq % 7 === 0 ? 'uncertain' : 'good',
  unit: 'kWh',
  kind: 'counter',
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('TelemetryWriter', () => {
  it('stores on its thread exactly what the event-loop store stores, with the same acks', async () => {
    const { db, writer } = setUp();
    const reference = openFleetDatabase(join(dir, `reference-${n++}.db`));
    const store = new TelemetryStore(reference.sqlite);
    // In order, repeated, with a gap filled later, over two boot epochs; as records and as columns.
    const batches = [
      range(1, 50),
      range(40, 60),
      range(80, 90),
      range(1, 10),
      range(61, 79),
      range(91, 100).concat([1, 2]),
    ].flatMap((seqs) => [seqs.map((s) => reading(s)), seqs.map((s) => reading(s, 2))]);
    try {
      const viaThread = await Promise.all(
        batches.map((readings, i) =>
          writer.ingest(7, { readings: i % 2 ? columnsFromRecords(readings) : readings, events: [] }, 1000),
        ),
      );
      const onLoop = await Promise.all(
        batches.map((readings) => store.ingestGrouped(7, { readings, events: [] }, 1000)),
      );
      expect(viaThread).toStrictEqual(onLoop);
      const rows = (d: FleetDatabase) =>
        d.sqlite
          .prepare(
            'SELECT r.boot_epoch, r.seq, c.key, r.ts, r.value, r.quality FROM readings r JOIN channels c ON c.id = r.channel_id ORDER BY 1, 2',
          )
          .raw()
          .all();
      expect(rows(db)).toStrictEqual(rows(reference));
      expect(rows(db)).toHaveLength(200);
      const rollups = (d: FleetDatabase) =>
        d.sqlite
          .prepare(
            'SELECT c.key, bucket_s, bucket_start, count, sum, min, max, first, last FROM rollups JOIN channels c ON c.id = channel_id ORDER BY 1, 2, 3',
          )
          .raw()
          .all();
      expect(rollups(db)).toStrictEqual(rollups(reference));
    } finally {
      reference.close();
    }
  });

  it('begins no transaction while the event loop writes (the write gate)', async () => {
    const { db, writer } = setUp();
    await writer.ingest(3, { readings: [reading(1)], events: [] }, 1); // the thread is up
    const release = db.writeGate.hold();
    let stored = false;
    const acks = Promise.all(
      [2, 3, 4].map((s) => writer.ingest(3, { readings: [reading(s)], events: [] }, 1)),
    ).then((a) => {
      stored = true;
      return a;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(stored).toBe(false);
    expect(db.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(1);
    release();
    expect((await acks).at(-1)?.acks).toStrictEqual([{ bootEpoch: 1, seq: 4 }]);
  });

  it('lets the event loop write while it stores batch after batch', async () => {
    const { db, writer } = setUp();
    await writer.ingest(3, { readings: [reading(1)], events: [] }, 1);
    let done = false;
    const stored = Promise.all(
      range(0, 119).map((b) =>
        writer.ingest(
          3,
          { readings: range(b * 500 + 2, b * 500 + 501).map((s) => reading(s)), events: [] },
          1,
        ),
      ),
    ).finally(() => {
      done = true;
    });
    let writes = 0;
    while (!done) {
      // Reads first, then writes: deferred, this fails with SQLITE_BUSY_SNAPSHOT as soon as the
      // thread commits between the read and the write (next test).
      writeTx(db.db, (tx) => {
        const before = tx.select({ n: count() }).from(schema.auditLog).get()?.n ?? 0;
        tx.insert(schema.auditLog)
          .values({
            at: writes,
            actor: 'test',
            action: 'probe',
            entityType: 'probe',
            entityId: String(before),
          })
          .run();
      });
      writes++;
      await new Promise((r) => setTimeout(r, 1));
    }
    await stored;
    expect(writes).toBeGreaterThan(1);
    expect(db.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(60_001);
    expect(db.sqlite.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(writes);
  });

  it('is why they begin IMMEDIATE: a deferred one that read before the thread’s commit cannot write', async () => {
    const { db, writer } = setUp();
    await writer.ingest(4, { readings: [reading(1)], events: [] }, 1);
    db.sqlite.prepare('BEGIN').run();
    try {
      db.sqlite.prepare('SELECT count(*) FROM readings').get();
      await writer.ingest(4, { readings: [reading(2)], events: [] }, 1);
      expect(() =>
        db.sqlite
          .prepare(
            "INSERT INTO audit_log (at, actor, action, entity_type, entity_id) VALUES (1, 't', 'a', 'e', 'i')",
          )
          .run(),
      ).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY_SNAPSHOT' }));
    } finally {
      db.sqlite.prepare('ROLLBACK').run();
    }
  });

  it('sets a gateway’s last-seen time on its thread, with the batch', async () => {
    const { db, writer } = setUp();
    db.sqlite
      .prepare(
        "INSERT INTO gateways (id, num, name, public_key, status, enrolled_at) VALUES ('gw_seen', 9, 'seen', 'k', 'active', 1)",
      )
      .run();
    await writer.ingest(9, { readings: [reading(1)], events: [] }, 1_234_567, 'gw_seen');
    await writer.close(); // answers and writes what it holds before it closes
    expect(db.sqlite.prepare("SELECT last_seen_at FROM gateways WHERE id = 'gw_seen'").pluck().get()).toBe(
      1_234_567,
    );
  });

  it('checkpoints its own commits unless told a checkpoint thread does', async () => {
    const { db, writer } = setUp();
    const walPages = () => (db.sqlite.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
    const fill = async (from: number) => {
      for (let b = from; b < from + 60; b++)
        await writer.ingest(
          5,
          { readings: range(b * 500 + 1, b * 500 + 500).map((s) => reading(s)), events: [] },
          1,
        );
    };
    db.sqlite.pragma('wal_autocheckpoint = 0'); // this connection must not checkpoint either
    writer.setAutoCheckpoint(false);
    await fill(0);
    const grown = walPages(); // (and now checkpointed: the next commit starts the WAL over)
    expect(grown).toBeGreaterThan(1500);
    writer.setAutoCheckpoint(true);
    await fill(60);
    // The same work again, but the thread checkpointed at 1,000 pages and started over.
    expect(walPages()).toBeLessThan(grown * 0.8);
  });

  it('rejects what a dying thread held, then stores again on a new one', async () => {
    const { db, writer } = setUp();
    await writer.ingest(1, { readings: [reading(1)], events: [] }, 1);
    const held = range(2, 21).map((s) => writer.ingest(1, { readings: [reading(s)], events: [] }, 1));
    expect(writer.pending).toBe(20);
    await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const results = await Promise.allSettled(held);
    const rejected = results.filter((r) => r.status === 'rejected');
    // Whatever it had not acked is refused with a reason, so the gateway sends it again.
    for (const r of rejected) {
      const reason = (r as PromiseRejectedResult).reason as { status?: number; message: string };
      expect(reason.message).toMatch(/send it again/);
      expect(reason.status).toBe(503); // HTTP clients get 503 with retry-after, not 500
    }
    const again = await writer.ingest(1, { readings: range(2, 21).map((s) => reading(s)), events: [] }, 1);
    expect(again.acks).toStrictEqual([{ bootEpoch: 1, seq: 21 }]);
    expect(db.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(21);
  });

  it('stores everything it was given before it closes, and refuses what comes after', async () => {
    const { db, writer } = setUp();
    const given = range(1, 30).map((s) => writer.ingest(2, { readings: [reading(s)], events: [] }, 1));
    await writer.close();
    const acks = await Promise.all(given);
    expect(acks.at(-1)?.acks).toStrictEqual([{ bootEpoch: 1, seq: 30 }]);
    expect(db.sqlite.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(30);
    await expect(writer.ingest(2, { readings: [reading(31)], events: [] }, 1)).rejects.toThrow(
      /shutting down/,
    );
  });
});
