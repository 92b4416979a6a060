import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedAgentRecord, VirtualClock } from '@brana/firmware';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalCorruptError, JournalForeignError } from '../errors.ts';
import type { JournalRecord } from './chunk-codec.ts';
import { Journal, type JournalOptions } from './journal.ts';

let dir: string;
let file: string;
const open: Journal[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-journal-'));
  file = join(dir, 'journal.db');
});
afterEach(() => {
  for (const j of open.splice(0)) j.close();
  rmSync(dir, { recursive: true, force: true });
});

function journal(opts: Partial<JournalOptions> = {}): Journal {
  const j = Journal.open({ path: file, ...opts });
  open.push(j);
  return j;
}

function reopen(j: Journal, opts: Partial<JournalOptions> = {}): Journal {
  j.close();
  open.splice(open.indexOf(j), 1);
  return journal(opts);
}

function readings(source: string, from: number, n: number, bootEpoch = 1, atMs = 1000): JournalRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    source,
    bootEpoch,
    seq: from + i,
    record: {
      kind: 'reading',
      channel: 'm1.energyKWh',
      atMs: atMs + from + i,
      value: from + i,
      quality: 'good',
    },
  }));
}

function event(
  seq: number,
  type: string,
  extra: Partial<Extract<ParsedAgentRecord, { kind: 'event' }>> = {},
): JournalRecord {
  return {
    source: 'rt',
    bootEpoch: 1,
    seq,
    record: { kind: 'event', type, safety: false, atMs: seq, data: { n: seq }, ...extra },
  };
}

const safetyEvent = (seq: number) =>
  event(seq, 'preemption.asserted', { safety: true, data: { approach: 'north' } });

describe('journal: taking records in', () => {
  it('commits, ignores resends by (source, bootEpoch, seq), survives reopening', () => {
    const j = journal();
    expect(j.append(readings('fieldbus', 1, 10))).toEqual({
      inserted: 10,
      duplicates: 0,
      evicted: 0,
      dropped: 0,
    });
    expect(j.append(readings('fieldbus', 5, 10))).toMatchObject({ inserted: 4, duplicates: 6 });
    // Same seq from another source or boot epoch is a different record.
    expect(j.append(readings('rt', 1, 3)).inserted).toBe(3);
    expect(j.append(readings('fieldbus', 1, 2, 2)).inserted).toBe(2);
    const epoch = j.uploadEpoch;
    const again = reopen(j);
    expect(again.uploadEpoch).toBe(epoch);
    expect(again.stats()).toMatchObject({
      records: 19,
      readings: 19,
      committed: 19,
      duplicates: 6,
      unsent: 19,
    });
    expect(again.append(readings('fieldbus', 1, 14)).inserted).toBe(0);
  });

  it('groups: readings wait up to the interval after they were measured, then one write takes them all', async () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock, flushIntervalMs: 10_000 });
    let written = false;
    const first = j.submit(readings('fieldbus', 1, 30, 1, clock.nowMs() - 1));
    void first.written.then(() => {
      written = true;
    });
    clock.advance(4000);
    j.submit(readings('fieldbus', 31, 30, 1, clock.nowMs() - 1));
    expect(j.stats()).toMatchObject({ pending: 60, writes: 0 });
    clock.advance(5998);
    await Promise.resolve();
    expect(written).toBe(false);
    expect(j.stats().writes).toBe(0);
    clock.advance(2);
    await first.written;
    expect(j.stats()).toMatchObject({ pending: 0, writes: 1, records: 60 });
  });

  it('time a reading already spent queued counts: one measured 8 s ago is written within 2 s', () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock, flushIntervalMs: 10_000 });
    // Measured 8 s ago (readings() adds the seq to the time given).
    j.submit(readings('fieldbus', 1, 5, 1, clock.nowMs() - 8001));
    clock.advance(1999);
    expect(j.stats().writes).toBe(0);
    clock.advance(1);
    expect(j.stats().writes).toBe(1);
  });

  it('a safety event, an alarm or a fault is written at once, with whatever waits', () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock, flushIntervalMs: 10_000 });
    j.submit(readings('fieldbus', 1, 30, 1, clock.nowMs()));
    j.submit([safetyEvent(1)]);
    clock.advance(0);
    expect(j.stats()).toMatchObject({ writes: 1, pending: 0, records: 31, safetyEvents: 1 });
    j.submit([event(2, 'alarm.raised')]);
    clock.advance(0);
    expect(j.stats().writes).toBe(2);
    // A quarter-hour interval is never dropped, but it waits for the group.
    j.submit([event(3, 'fieldbus.interval', { atMs: clock.nowMs() })]);
    clock.advance(0);
    expect(j.stats()).toMatchObject({ writes: 2, pending: 1 });
  });

  it('many records waiting are written at once', () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock, flushRecords: 100 });
    j.submit(readings('fieldbus', 1, 99, 1, clock.nowMs()));
    clock.advance(0);
    expect(j.stats().writes).toBe(0);
    j.submit(readings('fieldbus', 100, 1, 1, clock.nowMs()));
    clock.advance(0);
    expect(j.stats().writes).toBe(1);
  });

  it('a resend of records still waiting, or uploaded and trimmed long ago, is recognised', () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock });
    j.submit(readings('fieldbus', 1, 5));
    // The IPC link dropped before its ack: the firmware resends what is waiting, and one more.
    expect(j.submit(readings('fieldbus', 1, 6))).toMatchObject({ accepted: 1, duplicates: 5 });
    j.flush();
    j.numberBacklog(100);
    expect(j.ack(j.uploadEpoch, 6)).toBe(6);
    j.flush();
    expect(j.stats()).toMatchObject({ records: 0, inFlight: 0 });
    const k = reopen(j, { clock });
    // The agent died before its IPC ack reached the firmware: the firmware resends 1..6 and adds 7.
    expect(k.append(readings('fieldbus', 1, 7))).toMatchObject({ inserted: 1, duplicates: 6 });
    k.numberBacklog(100);
    expect(k.numbered(0, 10).map((r) => r.sourceSeq)).toEqual([7]);
  });
});

describe('journal: upload numbers', () => {
  it('numbers the backlog contiguously, whole chunks, durably; trims only past the ack', () => {
    const j = journal({ maxChunkRecords: 4 });
    j.append(readings('fieldbus', 1, 10));
    expect(j.numbered(0, 100)).toEqual([]);
    // Whole chunks: at least one, then more while they fit.
    expect(j.numberBacklog(6)).toBe(4);
    expect(j.numberBacklog(100)).toBe(6);
    expect(j.numberBacklog(100)).toBe(0);
    const rows = j.numbered(0, 100);
    expect(rows.map((r) => r.uploadSeq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.map((r) => r.sourceSeq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(j.numbered(3, 2).map((r) => r.uploadSeq)).toEqual([4, 5]);
    expect(j.ack(j.uploadEpoch, 3)).toBe(3);
    expect(j.ack(j.uploadEpoch + 1, 10)).toBe(0);
    expect(j.numbered(0, 100).map((r) => r.uploadSeq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(j.stats()).toMatchObject({ inFlight: 7, records: 7 });
    // Numbers survive a restart: after reopening, the next record continues the stream.
    const k = reopen(j);
    k.append(readings('fieldbus', 11, 1));
    k.numberBacklog(10);
    expect(k.numbered(10, 10).map((r) => r.uploadSeq)).toEqual([11]);
  });

  it('live: chunks written while the link is online are numbered in the same write and go before the backlog', () => {
    const j = journal();
    j.append(readings('fieldbus', 1, 5));
    j.setLive(true);
    j.append(readings('fieldbus', 6, 3));
    expect(j.numbered(0, 100).map((r) => r.sourceSeq)).toEqual([6, 7, 8]);
    expect(j.stats()).toMatchObject({ inFlight: 3, unsent: 5 });
    j.numberBacklog(100);
    expect(j.numbered(3, 100).map((r) => [r.uploadSeq, r.sourceSeq])).toEqual([
      [4, 1],
      [5, 2],
      [6, 3],
      [7, 4],
      [8, 5],
    ]);
  });

  it('events go in a chunk of their own, before the readings of the same group', () => {
    const j = journal();
    j.setLive(true);
    j.append([...readings('rt', 1, 2), event(3, 'device.status'), ...readings('rt', 4, 1)]);
    expect(j.numbered(0, 10).map((r) => [r.uploadSeq, r.kind, r.sourceSeq])).toEqual([
      [1, 'event', 3],
      [2, 'reading', 1],
      [3, 'reading', 2],
      [4, 'reading', 4],
    ]);
  });

  it('property: any interleaving of submits (with resends), writes, numbering, acks and crashes keeps each record exactly once', () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant('submit' as const),
        // The firmware resends from some point at or before its next new seq (what was not acked).
        back: fc.integer({ min: 0, max: 15 }),
        n: fc.integer({ min: 1, max: 10 }),
      }),
      fc.record({ t: fc.constant('write' as const) }),
      fc.record({ t: fc.constant('live' as const), on: fc.boolean() }),
      fc.record({ t: fc.constant('number' as const), n: fc.integer({ min: 1, max: 15 }) }),
      fc.record({ t: fc.constant('send' as const), n: fc.integer({ min: 1, max: 15 }) }),
      fc.record({ t: fc.constant('ack' as const), k: fc.nat(20) }),
      fc.record({ t: fc.constant('reopen' as const) }),
      // A crash: what waits in memory is lost; the firmware still holds it (not acked) and resends.
      fc.record({ t: fc.constant('crash' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true });
        const clock = new VirtualClock({ startWallMs: 1_000_000 });
        let j = Journal.open({ path: file, clock, maxChunkRecords: 4 });
        // What the server stored, by upload seq → source seq; and by source seq.
        const server = new Map<number, number>();
        const produced = new Set<number>();
        let firmwareAcked = 0;
        let lastSent = 0;
        let acked = 0;
        try {
          for (const o of ops) {
            if (o.t === 'submit') {
              const from = Math.max(firmwareAcked + 1, produced.size + 1 - o.back);
              j.submit(readings('fieldbus', from, o.n)).written.catch(() => {});
              for (let s = from; s < from + o.n; s++) produced.add(s);
            } else if (o.t === 'write') {
              j.flush();
              // Everything taken so far is on disk: the firmware got its acks.
              firmwareAcked = produced.size;
            } else if (o.t === 'live') {
              j.setLive(o.on);
            } else if (o.t === 'number') {
              j.numberBacklog(o.n);
            } else if (o.t === 'send') {
              for (const r of j.numbered(lastSent, o.n)) {
                const seen = server.get(r.uploadSeq);
                // Resends carry the same record under the same number.
                if (seen !== undefined) expect(seen).toBe(r.sourceSeq);
                server.set(r.uploadSeq, r.sourceSeq);
                lastSent = r.uploadSeq;
              }
            } else if (o.t === 'ack') {
              let w = acked;
              while (server.has(w + 1) && w < o.k) w++;
              acked = w;
              j.ack(j.uploadEpoch, acked);
            } else if (o.t === 'reopen') {
              j.close();
              firmwareAcked = produced.size;
              j = Journal.open({ path: file, clock, maxChunkRecords: 4 });
              lastSent = 0;
            } else {
              // kill -9: the old instance is left as it is (never written again, its timers never
              // fire on this clock); the firmware resends from its last ack.
              j = Journal.open({ path: file, clock, maxChunkRecords: 4 });
              lastSent = 0;
              for (let s = produced.size; s > firmwareAcked; s--) produced.delete(s);
            }
          }
          // Drain: the firmware resends what it still holds, everything is written, numbered, sent.
          j.submit(readings('fieldbus', firmwareAcked + 1, produced.size - firmwareAcked));
          j.flush();
          while (j.numberBacklog(100) > 0);
          for (const r of j.numbered(0, 100_000)) {
            const seen = server.get(r.uploadSeq);
            if (seen !== undefined) expect(seen).toBe(r.sourceSeq);
            server.set(r.uploadSeq, r.sourceSeq);
          }
          // Every produced record is stored exactly once, under a gap-free run of numbers.
          const seqs = [...server.keys()].sort((a, b) => a - b);
          expect(seqs).toEqual(seqs.map((_, i) => i + 1));
          expect([...server.values()].sort((a, b) => a - b)).toEqual([...produced].sort((a, b) => a - b));
        } finally {
          j.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('journal: space and classes', () => {
  it('over the quota evicts the oldest unsent readings, never events, and counts them', () => {
    const quotaBytes = 256 * 1024;
    const j = journal({ quotaBytes, maxChunkRecords: 100 });
    j.append([safetyEvent(1)]);
    let seq = 2;
    let evicted = 0;
    for (let round = 0; round < 60; round++) {
      const batch: JournalRecord[] = readings('rt', seq, 500).map((r, i) => ({
        ...r,
        record: { ...r.record, channel: `m${i % 50}.powerW`, value: Math.random() } as ParsedAgentRecord,
      }));
      seq += 500;
      batch.push(safetyEvent(seq++));
      evicted += j.append(batch).evicted;
    }
    const s = j.stats();
    expect(evicted).toBeGreaterThan(0);
    expect(s.evictedReadings).toBe(evicted);
    expect(s.usedBytes).toBeLessThanOrEqual(quotaBytes);
    expect(s.safetyEvents).toBe(61);
    while (j.numberBacklog(10_000) > 0);
    const kept = j.numbered(0, 1_000_000).filter((r) => r.kind === 'reading');
    // The newest readings are the ones kept, and every reading is either kept or counted.
    expect(kept.at(-1)?.sourceSeq).toBe(seq - 2);
    expect(kept.length + evicted).toBe(60 * 500);
    expect(j.numbered(0, 1_000_000).filter((r) => r.safety)).toHaveLength(61);
  });

  it('a flood of low-value events is held to its quota, counted by type, and reported; readings and critical events all stay', async () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({
      clock,
      quotas: {
        bulk: { perMinute: 60, burst: 10, held: 1000 },
        event: { perMinute: 600, burst: 50, held: 100 },
      },
      dropReportMs: 1000,
    });
    let seq = 1;
    const batch: JournalRecord[] = [];
    for (let i = 0; i < 5000; i++) {
      batch.push(event(seq++, 'preemption.rejected', { safety: true, data: { reason: 'signature' } }));
      if (i % 10 === 0) batch.push(event(seq++, 'device.status'));
      if (i % 100 === 0) batch.push(safetyEvent(seq++));
      if (i % 50 === 0) batch.push({ ...readings('rt', seq, 1)[0]!, seq: seq++ });
    }
    const r = j.submit(batch);
    j.flush();
    await r.written;
    const s = j.stats();
    expect(s.dropped.bulk['preemption.rejected']).toBe(5000 - 10);
    expect(s.dropped.event['device.status']).toBe(500 - 50);
    expect(s.safetyEvents).toBe(50);
    expect(s.readings).toBe(100);
    expect(r.dropped).toBe(4990 + 450);
    // The report comes after dropReportMs.
    clock.advance(1000);
    j.flush();
    j.setLive(true);
    j.flush();
    while (j.numberBacklog(100_000) > 0);
    const report = j
      .numbered(0, 100_000)
      .find((u) => u.body.kind === 'event' && u.body.type === 'journal.dropped');
    expect(report?.body).toMatchObject({
      kind: 'event',
      type: 'journal.dropped',
      data: { bulk: { 'preemption.rejected': 4990 }, event: { 'device.status': 450 }, readingsDiskFull: 0 },
    });
  });

  it('a disk that runs out of room: oldest readings evicted for the newest, critical kept, state and events say so', () => {
    let free = 1024 * 1024 * 1024;
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    const j = journal({ clock, reserveBytes: 16 * 1024 * 1024, diskFree: () => free, maxChunkRecords: 200 });
    let seq = 1;
    for (let i = 0; i < 20; i++) {
      j.append(
        readings('fieldbus', seq, 200).map((r) => ({
          ...r,
          record: { ...r.record, value: Math.random() } as ParsedAgentRecord,
        })),
      );
      seq += 200;
    }
    expect(j.stats().disk.state).toBe('ok');
    // Now the disk is at its reserve: the journal may not grow any more.
    free = 10 * 1024 * 1024;
    for (let i = 0; i < 20; i++) {
      j.append([safetyEvent(seq), ...readings('fieldbus', seq + 1, 199)]);
      seq += 200;
    }
    const s = j.stats();
    expect(s.disk.state).toBe('full');
    expect(s.evictedReadings).toBeGreaterThan(0);
    expect(s.safetyEvents).toBe(20);
    expect(s.readings + s.evictedReadings + s.dropped.readingsDiskFull).toBe(20 * 200 + 20 * 199);
    // Space returns: the next write says so.
    free = 1024 * 1024 * 1024;
    j.append(readings('fieldbus', seq, 1));
    expect(j.stats().disk.state).toBe('ok');
    j.setLive(true);
    j.flush();
    while (j.numberBacklog(100_000) > 0);
    const types = j
      .numbered(0, 100_000)
      .flatMap((u) => (u.body.kind === 'event' && u.body.type.startsWith('journal.') ? [u.body.type] : []));
    expect(types).toEqual(expect.arrayContaining(['journal.disk-full', 'journal.disk-ok']));
  });
});

describe('journal: refused records', () => {
  it('quarantines a refused record: kept aside, counted, a stand-in takes its number', () => {
    const j = journal();
    j.setLive(true);
    const big = event(2, 'flows.debug', { data: { deep: 'x'.repeat(100) } });
    j.append([...readings('rt', 1, 1), big, ...readings('rt', 3, 1)]);
    const rows = j.numbered(0, 10);
    const bad = rows.find((r) => r.sourceSeq === 2)!;
    expect(j.quarantine(j.uploadEpoch, bad.uploadSeq, 'events[0].data: nested deeper than 64 levels')).toBe(
      true,
    );
    const after = j.numbered(0, 10);
    expect(after.map((r) => r.uploadSeq)).toEqual(rows.map((r) => r.uploadSeq));
    expect(after.find((r) => r.uploadSeq === bad.uploadSeq)?.body).toMatchObject({
      kind: 'event',
      type: 'journal.quarantined',
      data: { kind: 'event', type: 'flows.debug', reason: 'events[0].data: nested deeper than 64 levels' },
    });
    expect(j.stats().quarantined).toBe(1);
    const k = reopen(j);
    expect(k.quarantined()).toEqual([
      expect.objectContaining({
        uploadSeq: bad.uploadSeq,
        reason: 'events[0].data: nested deeper than 64 levels',
        record: big.record,
      }),
    ]);
    expect(k.stats().quarantined).toBe(1);
    expect(k.numbered(0, 10).find((r) => r.uploadSeq === bad.uploadSeq)?.body).toMatchObject({
      type: 'journal.quarantined',
    });
    // A number no longer held (acked) is not quarantined.
    k.ack(k.uploadEpoch, 3);
    expect(k.quarantine(k.uploadEpoch, 1, 'late')).toBe(false);
  });
});

describe('journal: files', () => {
  it('refuses a file that is not SQLite, naming it and the fix', () => {
    writeFileSync(file, 'this is a text file, not a journal\n'.repeat(10));
    expect(() => journal()).toThrow(JournalCorruptError);
    expect(() => journal()).toThrow(
      new RegExp(
        `^journal ${file}: not a SQLite database \\(the first bytes are "this is a text f"\\)\\. Fix: move the file aside`,
      ),
    );
  });

  it('quarantines a damaged file when asked and starts a new journal', () => {
    writeFileSync(file, Buffer.alloc(4096, 0xab));
    const j = journal({ quarantineCorrupt: true, nowMs: () => 123 });
    expect(j.quarantinedFrom).toBe(`${file}.corrupt-123`);
    expect(j.stats().records).toBe(0);
  });

  it('refuses a SQLite database of another application', () => {
    const other = new Database(file);
    other.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
    other.close();
    expect(() => journal({ quarantineCorrupt: true })).toThrow(JournalForeignError);
    expect(() => journal()).toThrow(
      /another application \(application_id 0x0, tables users\)\. Fix: point the agent/,
    );
  });

  it('refuses a journal from a newer schema', () => {
    reopen(journal()).close();
    open.pop();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => journal()).toThrow(/written by a newer Brána \(journal schema 99/);
  });

  it('upgrades a v1 journal in place: numbered rows keep their numbers, the rest become backlog, marks stay', () => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE records (
        id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, boot_epoch INTEGER NOT NULL,
        seq INTEGER NOT NULL, kind TEXT NOT NULL, safety INTEGER NOT NULL, at_ms INTEGER NOT NULL,
        body TEXT NOT NULL, upload_seq INTEGER, UNIQUE (source, boot_epoch, seq));
      CREATE TABLE source_marks (source TEXT NOT NULL, boot_epoch INTEGER NOT NULL, max_seq INTEGER NOT NULL,
        PRIMARY KEY (source, boot_epoch));
    `);
    db.pragma('application_id = 1112690241');
    db.pragma('user_version = 1');
    const put = db.prepare(
      'INSERT INTO records (source, boot_epoch, seq, kind, safety, at_ms, body, upload_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rows = [...readings('fieldbus', 1, 6), safetyEvent(1)];
    // Rows 4..6 and the event were sent (numbered 7..10) before the upgrade; 1..3 were not.
    const numbers = [null, null, null, 7, 8, 9, 10];
    rows.forEach((r, i) =>
      put.run(
        r.source,
        r.bootEpoch,
        r.seq,
        r.record.kind,
        0,
        r.record.atMs,
        JSON.stringify(r.record),
        numbers[i],
      ),
    );
    db.prepare(
      "INSERT INTO meta VALUES ('uploadEpoch', '555'), ('nextUploadSeq', '11'), ('counter.committed', '7')",
    ).run();
    db.prepare("INSERT INTO source_marks VALUES ('fieldbus', 1, 6), ('rt', 1, 1)").run();
    db.close();

    const j = journal();
    expect(j.uploadEpoch).toBe(555);
    expect(j.numbered(0, 100).map((r) => [r.uploadSeq, r.sourceSeq, r.kind])).toEqual([
      [7, 4, 'reading'],
      [8, 5, 'reading'],
      [9, 6, 'reading'],
      [10, 1, 'event'],
    ]);
    j.numberBacklog(100);
    expect(j.numbered(10, 100).map((r) => [r.uploadSeq, r.sourceSeq])).toEqual([
      [11, 1],
      [12, 2],
      [13, 3],
    ]);
    expect(j.append(readings('fieldbus', 1, 7)).inserted).toBe(1);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'records'").all()).toEqual([]);
    check.close();
  });
});
