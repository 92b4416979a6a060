import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SequencedRecord } from '@brana/firmware';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalCorruptError, JournalForeignError } from '../errors.ts';
import { Journal } from './journal.ts';

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

function journal(opts: Partial<Parameters<typeof Journal.open>[0]> = {}): Journal {
  const j = Journal.open({ path: file, ...opts });
  open.push(j);
  return j;
}

function readings(source: 'rt' | 'fieldbus', from: number, n: number, bootEpoch = 1): SequencedRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    source,
    bootEpoch,
    seq: from + i,
    record: {
      kind: 'reading',
      channel: 'm1.energyKWh',
      atMs: 1000 + from + i,
      value: from + i,
      quality: 'good',
    },
  }));
}

function safetyEvent(seq: number): SequencedRecord {
  return {
    source: 'rt',
    bootEpoch: 1,
    seq,
    record: {
      kind: 'event',
      type: 'preemption.asserted',
      safety: true,
      atMs: seq,
      data: { approach: 'north' },
    },
  };
}

describe('journal', () => {
  it('commits, ignores resends by (source, bootEpoch, seq), survives reopening', () => {
    const j = journal();
    expect(j.append(readings('fieldbus', 1, 10))).toEqual({ inserted: 10, duplicates: 0, evicted: 0 });
    expect(j.append(readings('fieldbus', 5, 10))).toEqual({ inserted: 4, duplicates: 6, evicted: 0 });
    // Same seq from another source or boot epoch is a different record.
    expect(j.append(readings('rt', 1, 3)).inserted).toBe(3);
    expect(j.append(readings('fieldbus', 1, 2, 2)).inserted).toBe(2);
    const epoch = j.uploadEpoch;
    j.close();
    open.pop();
    const again = journal();
    expect(again.uploadEpoch).toBe(epoch);
    expect(again.stats()).toMatchObject({
      records: 19,
      readings: 19,
      committed: 19,
      duplicates: 6,
      unsent: 19,
    });
  });

  it('a resend of records already uploaded and trimmed is still recognised', () => {
    const j = journal();
    j.append(readings('fieldbus', 1, 5));
    j.takeUnsent(10, 'all');
    j.ack(j.uploadEpoch, 5);
    expect(j.stats().records).toBe(0);
    // The agent died before its IPC ack reached the firmware: the firmware resends 1..5 and adds 6.
    expect(j.append(readings('fieldbus', 1, 6))).toEqual({ inserted: 1, duplicates: 5, evicted: 0 });
    expect(j.takeUnsent(10, 'all').map((r) => r.sourceSeq)).toEqual([6]);
  });

  it('numbers uploads contiguously and trims only past the ack', () => {
    const j = journal();
    j.append(readings('fieldbus', 1, 10));
    const a = j.takeUnsent(4, 'all');
    expect(a.map((r) => r.uploadSeq)).toEqual([1, 2, 3, 4]);
    expect(a.map((r) => r.sourceSeq)).toEqual([1, 2, 3, 4]);
    const b = j.takeUnsent(100, 'all');
    expect(b.map((r) => r.uploadSeq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(j.ack(j.uploadEpoch, 3)).toBe(3);
    expect(j.ack(j.uploadEpoch + 1, 10)).toBe(0);
    expect(j.inFlight(100).map((r) => r.uploadSeq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // Numbers survive a restart: after reopening, the next unsent record continues the stream.
    j.close();
    open.pop();
    const k = journal();
    k.append(readings('fieldbus', 11, 1));
    expect(k.takeUnsent(10, 'all').map((r) => r.uploadSeq)).toEqual([11]);
  });

  it('live lane takes rows after the watermark, backlog lane the older ones', () => {
    const j = journal();
    j.append(readings('fieldbus', 1, 5));
    const mark = j.lastId();
    j.append(readings('fieldbus', 6, 3));
    expect(j.takeUnsent(10, 'live', mark).map((r) => r.sourceSeq)).toEqual([6, 7, 8]);
    expect(j.takeUnsent(2, 'backlog', mark).map((r) => r.sourceSeq)).toEqual([1, 2]);
  });

  it('over the quota evicts the oldest unsent readings, never events, and counts them', () => {
    const quotaBytes = 256 * 1024;
    const j = journal({ quotaBytes });
    j.append([safetyEvent(1)]);
    let seq = 2;
    let evicted = 0;
    for (let round = 0; round < 40; round++) {
      const batch = readings('rt', seq, 500);
      seq += 500;
      batch.push(safetyEvent(seq++));
      evicted += j.append(batch).evicted;
    }
    const s = j.stats();
    expect(evicted).toBeGreaterThan(0);
    expect(s.evictedReadings).toBe(evicted);
    expect(s.usedBytes).toBeLessThanOrEqual(quotaBytes);
    expect(s.safetyEvents).toBe(41);
    // The newest readings are the ones kept.
    const kept = j.takeUnsent(100_000, 'all').filter((r) => r.kind === 'reading');
    expect(kept.at(-1)?.sourceSeq).toBe(seq - 2);
    expect(kept.length + evicted).toBe(40 * 500);
  });

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
    journal().close();
    open.pop();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => journal()).toThrow(/written by a newer Brána \(journal schema 99/);
  });

  it('property: any interleaving of appends (with resends), takes and acks keeps each record exactly once', () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant('append' as const),
        // The firmware resends from some point at or before its next new seq (what was not acked).
        back: fc.integer({ min: 0, max: 15 }),
        n: fc.integer({ min: 1, max: 10 }),
      }),
      fc.record({ t: fc.constant('take' as const), n: fc.integer({ min: 1, max: 15 }) }),
      fc.record({ t: fc.constant('ack' as const), k: fc.nat(20) }),
      fc.record({ t: fc.constant('reopen' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        rmSync(`${file}-shm`, { force: true });
        let j = Journal.open({ path: file });
        const uploaded = new Map<number, number>(); // sourceSeq → uploadSeq
        const produced = new Set<number>();
        let acked = 0;
        let maxSent = 0;
        try {
          for (const o of ops) {
            if (o.t === 'append') {
              const from = Math.max(1, produced.size + 1 - o.back);
              j.append(readings('fieldbus', from, o.n));
              for (let s = from; s < from + o.n; s++) produced.add(s);
            } else if (o.t === 'take') {
              for (const r of j.takeUnsent(o.n, 'all')) {
                expect(uploaded.has(r.sourceSeq)).toBe(false);
                expect(r.uploadSeq).toBe(maxSent + 1);
                maxSent = r.uploadSeq;
                uploaded.set(r.sourceSeq, r.uploadSeq);
              }
            } else if (o.t === 'ack') {
              acked = Math.min(maxSent, Math.max(acked, o.k));
              j.ack(j.uploadEpoch, acked);
            } else {
              j.close();
              j = Journal.open({ path: file });
            }
          }
          for (const r of j.takeUnsent(10_000, 'all')) uploaded.set(r.sourceSeq, r.uploadSeq);
          // Every produced record got exactly one upload number; the unacked ones are still there.
          expect([...uploaded.keys()].sort((a, b) => a - b)).toEqual([...produced].sort((a, b) => a - b));
          const remaining = j.inFlight(10_000).map((r) => r.uploadSeq);
          expect(remaining).toEqual([...uploaded.values()].filter((u) => u > acked).sort((a, b) => a - b));
        } finally {
          j.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});
