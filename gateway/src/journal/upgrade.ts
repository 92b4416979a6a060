// Upgrade of a v1 journal (one row per record, JSON bodies) to chunks, run inside the upgrade's
// transaction by store.ts. Rows not yet sent become backlog chunks per lane in their order; rows
// already numbered for upload keep their numbers, since the server may have stored them.
import type { ParsedAgentRecord } from '@brana/firmware';
import type Database from 'better-sqlite3';
import { ChannelTable } from './channel-table.ts';
import { encodeChunk, type JournalRecord } from './chunk-codec.ts';
import { classify, countClasses, type Lane, laneOf } from './classes.ts';
import type { V1Row } from './store.ts';

/**
 * The v1 → v2 upgrade, inside the upgrade's transaction: unnumbered rows become chunks per lane in
 * their order; rows already numbered for upload keep their numbers (runs of contiguous numbers).
 */
export function upgradeRows(
  db: Database.Database,
  rows: (afterId: number) => V1Row[],
  maxChunk: number,
): void {
  const dict = new ChannelTable(db);
  const insertHead = db.prepare(
    'INSERT INTO chunks (lane, epoch, first_seq, records, readings, critical, events, bulk, safety, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertBody = db.prepare('INSERT INTO chunk_bodies (id, body) VALUES (?, ?)');
  const epoch = Number(
    (db.prepare("SELECT value FROM meta WHERE key = 'uploadEpoch'").get() as { value: string } | undefined)
      ?.value,
  );
  const write = (lane: Lane, records: JournalRecord[], firstSeq: number | null) => {
    const head = countClasses(records);
    const body = encodeChunk(records, dict);
    const info = insertHead.run(
      lane,
      firstSeq === null ? null : epoch,
      firstSeq,
      records.length,
      head.readings,
      head.critical,
      head.events,
      head.bulk,
      head.safety,
      body.length,
    );
    insertBody.run(Number(info.lastInsertRowid), body);
  };
  const numbered: { seq: number; r: JournalRecord }[] = [];
  const lanes: Record<Lane, JournalRecord[]> = { event: [], reading: [], bulk: [] };
  let after = 0;
  for (;;) {
    const page = rows(after);
    if (page.length === 0) break;
    for (const row of page) {
      after = row.id;
      const r: JournalRecord = {
        source: row.source,
        bootEpoch: row.boot_epoch,
        seq: row.seq,
        record: JSON.parse(row.body) as ParsedAgentRecord,
      };
      if (row.upload_seq !== null) {
        numbered.push({ seq: row.upload_seq, r });
        continue;
      }
      const lane = laneOf(classify(r.record));
      lanes[lane].push(r);
      if (lanes[lane].length >= maxChunk) write(lane, lanes[lane].splice(0), null);
    }
  }
  for (const lane of ['event', 'reading', 'bulk'] as const)
    if (lanes[lane].length > 0) write(lane, lanes[lane], null);
  // Numbered rows: sent before the upgrade (maybe stored by the server), so they keep their numbers.
  // Chunk seqs must rise per stream; a run is cut where they would not.
  numbered.sort((a, b) => a.seq - b.seq);
  let run: { seq: number; r: JournalRecord }[] = [];
  const flushRun = () => {
    if (run.length > 0)
      write(
        'event',
        run.map((x) => x.r),
        run[0]!.seq,
      );
    run = [];
  };
  const lastOf = new Map<string, number>();
  for (const n of numbered) {
    const prev = run[run.length - 1];
    const key = `${n.r.source}:${n.r.bootEpoch}`;
    if (prev && (n.seq !== prev.seq + 1 || run.length >= maxChunk || (lastOf.get(key) ?? 0) >= n.r.seq)) {
      flushRun();
      lastOf.clear();
    }
    run.push(n);
    lastOf.set(key, n.r.seq);
  }
  flushRun();
  dict.persist();
}
