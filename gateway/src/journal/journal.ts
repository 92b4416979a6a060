// The agent's durable journal. Firmware records are taken in (deduplicated by their firmware key
// (source, bootEpoch, seq), classified, held to their class quota), grouped in memory and written
// together: at once when a safety event, alarm or fault is among them or many are waiting,
// otherwise at the latest `flushIntervalMs` after they were measured. A group is one SQLite
// transaction (WAL, synchronous FULL) holding compact chunks; only after it the firmware gets its
// ack, so every acked record survives a power cut, and what the firmware still holds unacked in a
// power cut is at most the last interval's readings. Writing a group every ten seconds instead of
// every few milliseconds is what keeps an SD card alive (gateway/README.md, "Wear").
//
// Upload numbers: a chunk written while the fleet link is online is numbered in the same
// transaction (it goes out at once); chunks written offline stay unnumbered, and the oldest are
// numbered (durably) just before they are sent. A number is never given twice and nothing numbered
// is ever evicted, so the server's contiguous ack always moves; the journal trims what it acked.
//
// Space: over `quotaBytes`, or when the data disk has less than `reserveBytes` free, the journal
// stops growing and evicts the oldest unsent low-value events, then the oldest unsent readings
// (the newest are kept); if nothing can go, new readings are dropped and counted, while critical
// records wait in memory, unacked, until space returns. Every drop is counted and reported.
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Clock, type ParsedAgentRecord, RealClock, type TimerHandle } from '@brana/firmware';
import type Database from 'better-sqlite3';
import { JournalCorruptError, JournalWriteError } from '../errors.ts';
import { ChannelTable } from './channel-table.ts';
import { decodeChunk, encodeChunk, type JournalRecord } from './chunk-codec.ts';
import {
  admit,
  type Bucket,
  type ClassQuota,
  type ClassRules,
  classify,
  countClasses,
  DEFAULT_CLASS_RULES,
  DEFAULT_QUOTAS,
  isSafety,
  isUrgent,
  type Lane,
  laneOf,
  type RecordClass,
} from './classes.ts';
import { JOURNAL_PAGE_SIZE, openStore, writeError } from './store.ts';
import { upgradeRows } from './upgrade.ts';

export type RecordKind = 'reading' | 'event' | 'status';
export type DiskState = 'ok' | 'full';

export interface JournalOptions {
  path: string;
  /** Bytes of live pages the journal may use (default 256 MiB); the oldest unsent readings go beyond it. */
  quotaBytes?: number;
  /** A damaged file is renamed to `<path>.corrupt-<ms>` and a new journal started, instead of failing. */
  quarantineCorrupt?: boolean;
  /** Wall clock for the upload epoch of a new journal (default: `clock`). */
  nowMs?: () => number;
  /** Timers and monotonic time (default: the real clock, timers not keeping the process alive). */
  clock?: Clock;
  /**
   * Most a reading waits in memory after it was measured before it is written (default 10,000 ms).
   * It is the power-cut loss window for readings; 0 writes every group at once.
   */
  flushIntervalMs?: number;
  /** Records waiting that make a write happen at once (default 2000). */
  flushRecords?: number;
  /** Records per chunk at most (default 1000; the wire takes 5000 per message). */
  maxChunkRecords?: number;
  rules?: ClassRules;
  quotas?: Partial<Record<'event' | 'bulk', ClassQuota>>;
  /** Free space left on the data disk for everything else (default 16 MiB). */
  reserveBytes?: number;
  /** Free bytes on the disk holding `dir` (default: statfs). */
  diskFree?: (dir: string) => number;
  /** How often what was dropped is reported as a `journal.dropped` event (default 60,000 ms). */
  dropReportMs?: number;
  /** Called after every write (the fleet link uploads what it numbered). */
  onWritten?: () => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** A record ready for upload, numbered in the upload stream. */
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
  body: ParsedAgentRecord;
}

export interface DroppedCounts {
  /** Events refused by their class quota, by class and type. */
  event: Record<string, number>;
  bulk: Record<string, number>;
  /** Readings dropped because the disk was full and nothing could be evicted for them. */
  readingsDiskFull: number;
}

export interface JournalStats {
  file: string;
  uploadEpoch: number;
  /** Records held (written and waiting), not yet acked by the fleet server. */
  records: number;
  readings: number;
  events: number;
  safetyEvents: number;
  /** Held and not yet numbered for upload (includes `pending`). */
  unsent: number;
  /** Numbered for upload, not yet acked. */
  inFlight: number;
  /** Taken but not yet written (they wait for the next group write; the firmware is not acked). */
  pending: number;
  usedBytes: number;
  quotaBytes: number;
  committed: number;
  duplicates: number;
  /** Unsent readings evicted for space (quota or a full disk), oldest first. */
  evictedReadings: number;
  acked: number;
  dropped: DroppedCounts;
  /** Records the fleet server refused, kept aside (see `quarantined()`). */
  quarantined: number;
  writes: number;
  flushIntervalMs: number;
  disk: { state: DiskState; freeBytes: number; reserveBytes: number; sinceMs: number | undefined };
  /** Set when a damaged journal was quarantined at open. */
  quarantinedFrom: string | undefined;
}

export interface AppendResult {
  inserted: number;
  duplicates: number;
  evicted: number;
  dropped: number;
}

/** What `submit` did with a batch; `written` settles when what it kept is on disk. */
export interface SubmitResult {
  accepted: number;
  duplicates: number;
  dropped: number;
  written: Promise<void>;
}

export interface QuarantinedRecord {
  uploadEpoch: number;
  uploadSeq: number;
  atMs: number;
  reason: string;
  record: unknown;
}

interface Counters {
  committed: number;
  duplicates: number;
  evictedReadings: number;
  acked: number;
  quarantined: number;
  writes: number;
  dropped: DroppedCounts;
}

interface Waiter {
  left: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Pending {
  r: JournalRecord;
  cls: RecordClass;
  waiter: Waiter;
}

interface ChunkHead {
  id: number;
  lane: Lane;
  epoch: number | null;
  firstSeq: number | null;
  records: number;
  readings: number;
  critical: number;
  events: number;
  bulk: number;
  safety: number;
  bytes: number;
}

interface Built {
  head: Omit<ChunkHead, 'id' | 'epoch' | 'firstSeq'>;
  body: Buffer;
  records: JournalRecord[];
  items: Pending[];
}

const MAX_DROP_TYPES = 200;
/** The journal's own reports (disk full, drops) come from this source. */
export const AGENT_SOURCE = 'agent';
const REASON_MAX = 500;

export class Journal {
  readonly file: string;
  readonly uploadEpoch: number;
  readonly quotaBytes: number;
  readonly quarantinedFrom: string | undefined;
  readonly flushIntervalMs: number;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #o: {
    flushRecords: number;
    maxChunkRecords: number;
    rules: ClassRules;
    quotas: Record<'event' | 'bulk', ClassQuota>;
    reserveBytes: number;
    diskFree: (dir: string) => number;
    dropReportMs: number;
    onWritten: (() => void) | undefined;
    log: (level: 'info' | 'warn' | 'error', message: string) => void;
  };
  readonly #dict: ChannelTable;
  readonly #bootEpoch: number;
  #agentSeq = 0;
  #nextUploadSeq: number;
  #counters: Counters;
  #closed = false;
  // Dedup marks: the highest seq taken per `${source}:${bootEpoch}` (written or waiting), and the
  // highest written, which is what a failed write falls back to.
  readonly #marks = new Map<string, number>();
  readonly #writtenMarks = new Map<string, number>();
  readonly #dirtyMarks = new Set<string>();
  #pending: Pending[] = [];
  #pendingUrgent = false;
  #deadlineMono = Number.POSITIVE_INFINITY;
  #timer: TimerHandle | undefined;
  #timerAtMono = Number.POSITIVE_INFINITY;
  #live = false;
  /** Numbered, not yet acked, by first seq. */
  #numbered: ChunkHead[] = [];
  #ackedSeq = 0;
  #toTrim: number[] = [];
  /** Records held per class (written unacked plus waiting), for the quotas and the stats. */
  readonly #held: Record<RecordClass, number> = { reading: 0, critical: 0, event: 0, bulk: 0 };
  readonly #buckets = new Map<'event' | 'bulk', Bucket>();
  #decoded = new Map<number, JournalRecord[]>();
  #disk: {
    state: DiskState;
    freeBytes: number;
    sinceMs: number | undefined;
    evictedAtStart: number;
    droppedAtStart: number;
  } = {
    state: 'ok',
    freeBytes: Number.POSITIVE_INFINITY,
    sinceMs: undefined,
    evictedAtStart: 0,
    droppedAtStart: 0,
  };
  #reported: { atMs: number; dropped: DroppedCounts; evicted: number };
  #reportTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;

  private constructor(
    file: string,
    db: Database.Database,
    options: JournalOptions,
    quarantinedFrom: string | undefined,
  ) {
    this.file = file;
    this.#db = db;
    this.quotaBytes = options.quotaBytes ?? 256 * 1024 * 1024;
    this.quarantinedFrom = quarantinedFrom;
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.#clock = options.clock ?? new RealClock({ unrefTimers: true });
    this.#o = {
      flushRecords: options.flushRecords ?? 2000,
      maxChunkRecords: Math.min(5000, options.maxChunkRecords ?? 1000),
      rules: options.rules ?? DEFAULT_CLASS_RULES,
      quotas: { ...DEFAULT_QUOTAS, ...options.quotas },
      reserveBytes: options.reserveBytes ?? 16 * 1024 * 1024,
      diskFree: options.diskFree ?? freeBytesOf,
      dropReportMs: options.dropReportMs ?? 60_000,
      onWritten: options.onWritten,
      log: options.log ?? (() => {}),
    };
    this.#bootEpoch = Math.floor((options.nowMs ?? Date.now)());
    const meta = (key: string) =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    this.uploadEpoch = Number(meta('uploadEpoch'));
    this.#counters = { ...emptyCounters(), ...(JSON.parse(meta('counters') ?? '{}') as Partial<Counters>) };
    this.#counters.dropped = { ...emptyCounters().dropped, ...this.#counters.dropped };
    this.#reported = {
      atMs: this.#clock.nowMs(),
      dropped: cloneDropped(this.#counters.dropped),
      evicted: this.#counters.evictedReadings,
    };
    this.#dict = new ChannelTable(db);
    const heads = db.prepare(`SELECT ${HEAD} FROM chunks ORDER BY id`).all() as ChunkHead[];
    let maxSeq = 0;
    for (const h of heads) {
      this.#addHeld(h, 1);
      if (h.firstSeq !== null) {
        if (h.epoch === this.uploadEpoch) this.#numbered.push(h);
        maxSeq = Math.max(maxSeq, h.firstSeq + h.records - 1);
      }
    }
    this.#numbered.sort((a, b) => a.firstSeq! - b.firstSeq!);
    this.#nextUploadSeq = Math.max(Number(meta('nextUploadSeq') ?? 1), maxSeq + 1);
  }

  /** Opens (or creates) the journal; refuses foreign or damaged files with a clear error. */
  static open(options: JournalOptions): Journal {
    const now = (options.nowMs ?? Date.now)();
    const maxChunk = Math.min(5000, options.maxChunkRecords ?? 1000);
    const { db, quarantinedFrom } = openStore(options.path, {
      quarantineCorrupt: options.quarantineCorrupt ?? false,
      nowMs: now,
      upgradeV1: (d, rows) => upgradeRows(d, rows, maxChunk),
    });
    return new Journal(options.path, db, options, quarantinedFrom);
  }

  // ------------------------------------------------------------------ taking records in

  /**
   * Takes a batch from the firmware: resends (seq at or below what was taken before) are skipped,
   * quotas applied, the rest waits for the next group write. `written` settles once every record
   * kept is on disk (or was dropped by the disk-full policy); it rejects if the write failed for
   * another reason, and then those records are not taken (a resend is taken again).
   */
  submit(records: readonly JournalRecord[]): SubmitResult {
    this.#open();
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const written = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: Waiter = { left: 0, settled: false, resolve, reject };
    let accepted = 0;
    let dropped = 0;
    let oldestAtMs = Number.POSITIVE_INFINITY;
    const nowMono = this.#clock.monotonicMs();
    for (const r of records) {
      const key = `${r.source}:${r.bootEpoch}`;
      const mark = this.#mark(key);
      // Each stream comes in order and is resent only from what was not acked, so anything at or
      // below the mark was taken before (it may be uploaded and trimmed long since).
      if (r.seq <= mark) continue;
      this.#marks.set(key, r.seq);
      const cls = classify(r.record, this.#o.rules);
      if (cls === 'event' || cls === 'bulk') {
        const a = admit(this.#buckets.get(cls), this.#o.quotas[cls], nowMono, this.#held[cls]);
        this.#buckets.set(cls, a.bucket);
        if (!a.admitted) {
          countDrop(this.#counters.dropped[cls], r.record.kind === 'event' ? r.record.type : r.record.kind);
          dropped++;
          continue;
        }
      }
      this.#held[cls]++;
      this.#pending.push({ r, cls, waiter });
      waiter.left++;
      accepted++;
      if (!this.#pendingUrgent && isUrgent(r.record, this.#o.rules)) this.#pendingUrgent = true;
      if (r.record.atMs < oldestAtMs) oldestAtMs = r.record.atMs;
    }
    const duplicates = records.length - accepted - dropped;
    this.#counters.duplicates += duplicates;
    if (dropped > 0) this.#scheduleReport();
    if (waiter.left === 0) {
      waiter.settled = true;
      resolve();
    } else {
      // The interval counts from when a record was measured, so time it already spent queued in
      // the firmware or the IPC link is not added on top.
      const age = Math.min(this.flushIntervalMs, Math.max(0, this.#clock.nowMs() - oldestAtMs));
      this.#deadlineMono = Math.min(this.#deadlineMono, nowMono + this.flushIntervalMs - age);
      this.#schedule();
    }
    return { accepted, duplicates, dropped, written };
  }

  /** Takes a batch and writes everything waiting at once (tools, tests, benchmarks). */
  append(records: readonly JournalRecord[]): AppendResult {
    const evictedBefore = this.#counters.evictedReadings;
    const s = this.submit(records);
    s.written.catch(() => {});
    this.flush();
    return {
      inserted: s.accepted,
      duplicates: s.duplicates,
      dropped: s.dropped,
      evicted: this.#counters.evictedReadings - evictedBefore,
    };
  }

  /** Records one of the journal's (or the agent's) own events; it reaches the fleet like any other. */
  note(
    type: string,
    data: Record<string, unknown>,
    severity: 'info' | 'warning' | 'critical' = 'info',
  ): void {
    if (this.#closed) return;
    this.submit([
      {
        source: AGENT_SOURCE,
        bootEpoch: this.#bootEpoch,
        seq: ++this.#agentSeq,
        record: { kind: 'event', type, safety: false, severity, atMs: this.#clock.nowMs(), data },
      },
    ]).written.catch(() => {});
  }

  /**
   * Writes everything waiting now, in one transaction. Throws JournalWriteError / JournalCorruptError
   * when the write failed for any reason but a full disk (the records are then not taken).
   */
  flush(): void {
    this.#open();
    this.#cancelTimer();
    this.#write();
  }

  // ------------------------------------------------------------------ upload

  /** While on, chunks are numbered as they are written: the link is online and sends them at once. */
  setLive(on: boolean): void {
    this.#live = on;
  }

  /** Numbered records not yet acked with upload seq above `afterSeq`, in order, at most `limit`. */
  numbered(afterSeq: number, limit: number): UploadRow[] {
    const from = Math.max(afterSeq, this.#ackedSeq);
    const out: UploadRow[] = [];
    for (const h of this.#numbered) {
      if (out.length >= limit) break;
      const last = h.firstSeq! + h.records - 1;
      if (last <= from) continue;
      const records = this.#records(h);
      for (let i = Math.max(0, from + 1 - h.firstSeq!); i < records.length && out.length < limit; i++) {
        out.push(toUpload(this.uploadEpoch, h.firstSeq! + i, records[i]!));
      }
    }
    return out;
  }

  /**
   * Numbers the oldest unsent chunks for upload (at least one, then whole chunks while the total
   * stays within `limit` records), durably before it returns. Returns how many records it numbered.
   */
  numberBacklog(limit: number): number {
    this.#open();
    const heads: ChunkHead[] = [];
    let total = 0;
    const candidates = this.#db
      .prepare(`SELECT ${HEAD} FROM chunks WHERE first_seq IS NULL ORDER BY id LIMIT 64`)
      .all() as ChunkHead[];
    for (const h of candidates) {
      if (heads.length > 0 && total + h.records > limit) break;
      heads.push(h);
      total += h.records;
    }
    if (heads.length === 0) return 0;
    const first = this.#nextUploadSeq;
    try {
      this.#db.transaction(() => {
        const set = this.#db.prepare('UPDATE chunks SET epoch = ?, first_seq = ? WHERE id = ?');
        let seq = first;
        for (const h of heads) {
          set.run(this.uploadEpoch, seq, h.id);
          seq += h.records;
        }
        this.#saveMeta(seq);
      })();
    } catch (err) {
      throw this.#fail(err);
    }
    let seq = first;
    for (const h of heads) {
      h.epoch = this.uploadEpoch;
      h.firstSeq = seq;
      seq += h.records;
      this.#numbered.push(h);
    }
    this.#nextUploadSeq = seq;
    return total;
  }

  /** The server stored everything up to `seq` of `uploadEpoch`. Other epochs are ignored. */
  ack(uploadEpoch: number, seq: number): number {
    if (uploadEpoch !== this.uploadEpoch || seq <= this.#ackedSeq) return 0;
    const before = this.#ackedSeq;
    this.#ackedSeq = Math.min(seq, this.#nextUploadSeq - 1);
    let acked = 0;
    while (this.#numbered.length > 0) {
      const h = this.#numbered[0]!;
      const last = h.firstSeq! + h.records - 1;
      acked += Math.max(0, Math.min(last, this.#ackedSeq) - Math.max(h.firstSeq! - 1, before));
      if (last > this.#ackedSeq) break;
      this.#numbered.shift();
      this.#addHeld(h, -1);
      this.#decoded.delete(h.id);
      this.#toTrim.push(h.id);
    }
    this.#counters.acked += acked;
    // Acked chunks go with the next group write; if none comes soon, on their own.
    if (this.#toTrim.length > 0) this.#schedule();
    return acked;
  }

  /** Lowest chunk id still held (not yet acked); 0 when the journal holds nothing. */
  firstId(): number {
    if (this.#pending.length > 0) return Number.MAX_SAFE_INTEGER;
    const trimmed = new Set(this.#toTrim);
    for (const h of this.#db
      .prepare('SELECT id FROM chunks ORDER BY id LIMIT ?')
      .iterate(trimmed.size + 1) as Iterable<{
      id: number;
    }>) {
      if (!trimmed.has(h.id)) return h.id;
    }
    return 0;
  }

  // ------------------------------------------------------------------ refused records

  /**
   * The fleet server refused the record numbered (`uploadEpoch`, `uploadSeq`): it is kept aside
   * (quarantine) and a small `journal.quarantined` event takes its number, so the upload goes on
   * and the fleet learns what happened. Returns false when that number is not held (already acked).
   */
  quarantine(uploadEpoch: number, uploadSeq: number, reason: string): boolean {
    this.#open();
    if (uploadEpoch !== this.uploadEpoch) return false;
    const h = this.#numbered.find((c) => c.firstSeq! <= uploadSeq && uploadSeq < c.firstSeq! + c.records);
    if (!h) return false;
    const records = [...this.#records(h)];
    const index = uploadSeq - h.firstSeq!;
    const original = records[index]!;
    const why = reason.slice(0, REASON_MAX);
    const originalJson = JSON.stringify(original.record);
    const again = original.record.kind === 'event' && original.record.type === 'journal.quarantined';
    records[index] = {
      ...original,
      record: {
        kind: 'event',
        type: 'journal.quarantined',
        safety: false,
        severity: 'warning',
        atMs: original.record.atMs,
        // A stand-in the server refused too is replaced by a bare one.
        data: again ? {} : standInData(original.record, why, originalJson.length),
      },
    };
    const built = this.#build(h.lane, records, []);
    const counters = { ...this.#counters, quarantined: this.#counters.quarantined + (again ? 0 : 1) };
    let dictMark: number | undefined;
    try {
      this.#db.transaction(() => {
        dictMark = this.#dict.persist();
        this.#db.prepare('UPDATE chunk_bodies SET body = ? WHERE id = ?').run(built.body, h.id);
        this.#db
          .prepare(
            'UPDATE chunks SET readings = ?, critical = ?, events = ?, bulk = ?, safety = ?, bytes = ? WHERE id = ?',
          )
          .run(
            built.head.readings,
            built.head.critical,
            built.head.events,
            built.head.bulk,
            built.head.safety,
            built.body.length,
            h.id,
          );
        if (!again) {
          this.#db
            .prepare(
              'INSERT OR REPLACE INTO quarantine (epoch, seq, at_ms, reason, record) VALUES (?, ?, ?, ?, ?)',
            )
            .run(uploadEpoch, uploadSeq, Math.round(this.#clock.nowMs()), why, originalJson);
        }
        this.#saveMeta(this.#nextUploadSeq, counters);
      })();
    } catch (err) {
      if (dictMark !== undefined) this.#dict.rollback(dictMark);
      throw this.#fail(err);
    }
    this.#counters = counters;
    this.#addHeld(h, -1);
    Object.assign(h, built.head, { bytes: built.body.length });
    this.#addHeld(h, 1);
    this.#decoded.set(h.id, records);
    this.#o.log(
      'warn',
      `the fleet server refused record ${uploadEpoch}:${uploadSeq} (${why}); kept in quarantine`,
    );
    return true;
  }

  /** Records the fleet server refused, newest first. */
  quarantined(limit = 100): QuarantinedRecord[] {
    return (
      this.#db
        .prepare(
          'SELECT epoch, seq, at_ms, reason, record FROM quarantine ORDER BY at_ms DESC, seq DESC LIMIT ?',
        )
        .all(limit) as { epoch: number; seq: number; at_ms: number; reason: string; record: string | null }[]
    ).map((q) => ({
      uploadEpoch: q.epoch,
      uploadSeq: q.seq,
      atMs: q.at_ms,
      reason: q.reason,
      record: q.record === null ? null : JSON.parse(q.record),
    }));
  }

  // ------------------------------------------------------------------ state

  stats(): JournalStats {
    const ackedWithin = this.#ackedWithin();
    const inFlight = this.#numbered.reduce((n, h) => n + h.records, 0) - ackedWithin;
    const held = this.#held.reading + this.#held.critical + this.#held.event + this.#held.bulk - ackedWithin;
    const pendingSafety = this.#pending.reduce(
      (n, p) => n + (isSafety(p.r.record) && p.cls !== 'bulk' ? 1 : 0),
      0,
    );
    const written = this.#db
      .prepare(
        'SELECT COALESCE(SUM(safety), 0) AS safety FROM chunks WHERE id NOT IN (SELECT value FROM json_each(?))',
      )
      .get(JSON.stringify(this.#toTrim)) as { safety: number };
    return {
      file: this.file,
      uploadEpoch: this.uploadEpoch,
      records: held,
      readings: this.#held.reading,
      events: this.#held.critical + this.#held.event + this.#held.bulk,
      safetyEvents: written.safety + pendingSafety,
      unsent: held - inFlight,
      inFlight,
      pending: this.#pending.length,
      usedBytes: this.#usedBytes(),
      quotaBytes: this.quotaBytes,
      committed: this.#counters.committed,
      duplicates: this.#counters.duplicates,
      evictedReadings: this.#counters.evictedReadings,
      acked: this.#counters.acked,
      dropped: cloneDropped(this.#counters.dropped),
      quarantined: this.#counters.quarantined,
      writes: this.#counters.writes,
      flushIntervalMs: this.flushIntervalMs,
      disk: {
        state: this.#disk.state,
        freeBytes: this.#disk.freeBytes,
        reserveBytes: this.#o.reserveBytes,
        sinceMs: this.#disk.sinceMs,
      },
      quarantinedFrom: this.quarantinedFrom,
    };
  }

  /** Writes what waits (best effort) and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#cancelTimer();
    if (this.#reportTimer) this.#clock.clearTimeout(this.#reportTimer);
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    try {
      this.#write();
    } catch (err) {
      this.#o.log(
        'error',
        `journal: could not write the last records before closing (${(err as Error).message})`,
      );
    }
    this.#closed = true;
    const err = new JournalWriteError(this.file, 'closed before these records were written');
    for (const p of this.#pending.splice(0)) settle(p.waiter, err);
    this.#db.close();
  }

  // ------------------------------------------------------------------ inside

  #open(): void {
    if (this.#closed) throw new JournalWriteError(this.file, 'the journal is closed');
  }

  #mark(key: string): number {
    let m = this.#marks.get(key);
    if (m === undefined) {
      const [source, boot] = splitKey(key);
      const row = this.#db
        .prepare('SELECT max_seq AS m FROM source_marks WHERE source = ? AND boot_epoch = ?')
        .get(source, boot) as { m: number } | undefined;
      m = row?.m ?? 0;
      this.#marks.set(key, m);
      this.#writtenMarks.set(key, m);
    }
    return m;
  }

  #schedule(): void {
    if (this.#closed) return;
    const now = this.#clock.monotonicMs();
    let at = this.#deadlineMono;
    if (this.#pendingUrgent || this.#pending.length >= this.#o.flushRecords || this.flushIntervalMs === 0)
      at = now;
    // Acked chunks are trimmed with the next write; alone, a minute later at the latest.
    if (this.#pending.length === 0 && this.#toTrim.length > 0) at = Math.min(at, now + 60_000);
    if (!Number.isFinite(at) || at >= this.#timerAtMono) return;
    this.#cancelTimer();
    this.#timerAtMono = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAtMono = Number.POSITIVE_INFINITY;
      if (this.#closed) return;
      try {
        this.#write();
      } catch (err) {
        this.#o.log('error', (err as Error).message);
      }
    }, at - now);
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAtMono = Number.POSITIVE_INFINITY;
  }

  /** One group write: chunks for what waits, trims, marks, counters; with the disk-full policy. */
  #write(): void {
    if (this.#pending.length === 0 && this.#toTrim.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingUrgent = false;
    this.#deadlineMono = Number.POSITIVE_INFINITY;
    const built = this.#buildAll(batch);
    // New pages a write may take: its bodies with some slack; the rest rewrites pages in place.
    const need = built.reduce((n, b) => n + b.body.length + 256, 0) * 1.25 + 2 * JOURNAL_PAGE_SIZE;
    this.#makeRoom(need);
    const result = this.#tryWrite(built);
    if (result === 'ok') {
      this.#written(batch);
      this.#maybeRecovered();
      return;
    }
    if (result !== 'full') {
      // Not a full disk: nothing of this group was taken. The firmware resends it.
      for (const [k, v] of this.#writtenMarks) this.#marks.set(k, v);
      for (const p of batch) this.#held[p.cls]--;
      for (const p of batch) settle(p.waiter, result);
      throw result;
    }
    // The disk is full: make room by evicting, then try once more.
    this.#enterFull();
    this.#evict(need * 2 + 256 * 1024);
    if (this.#tryWrite(built) === 'ok') {
      this.#written(batch);
      return;
    }
    // Nothing more can go: readings and bulk are dropped (counted, acked); critical and other
    // events wait in memory, unacked, and are tried again until space returns.
    const keep: Pending[] = [];
    for (const p of batch) {
      if (p.cls === 'reading' || p.cls === 'bulk') {
        if (p.cls === 'reading') this.#counters.dropped.readingsDiskFull++;
        else
          countDrop(
            this.#counters.dropped.bulk,
            p.r.record.kind === 'event' ? p.r.record.type : p.r.record.kind,
          );
        this.#held[p.cls]--;
        done(p.waiter);
      } else keep.push(p);
    }
    this.#pending = keep.concat(this.#pending);
    if (this.#pending.some((p) => isUrgent(p.r.record, this.#o.rules))) this.#pendingUrgent = true;
    this.#scheduleReport();
    this.#retryLater();
  }

  /** Encodes what waits into chunks: events first (they matter most), then readings, then bulk. */
  #buildAll(batch: Pending[]): Built[] {
    const lanes: Record<Lane, Pending[]> = { event: [], reading: [], bulk: [] };
    for (const p of batch) lanes[laneOf(p.cls)].push(p);
    const out: Built[] = [];
    for (const lane of ['event', 'reading', 'bulk'] as const) {
      const items = lanes[lane];
      for (let i = 0; i < items.length; i += this.#o.maxChunkRecords) {
        const part = items.slice(i, i + this.#o.maxChunkRecords);
        out.push(
          this.#build(
            lane,
            part.map((p) => p.r),
            part,
          ),
        );
      }
    }
    return out;
  }

  #build(lane: Lane, records: JournalRecord[], items: Pending[]): Built {
    const body = encodeChunk(records, this.#dict);
    const head = {
      lane,
      records: records.length,
      ...countClasses(records, this.#o.rules),
      bytes: body.length,
    };
    return { head, body, records, items };
  }

  /** The write transaction. 'ok', 'full' (the disk), or the error that stopped it. */
  #tryWrite(built: Built[]): 'ok' | 'full' | Error {
    const firstSeq = this.#nextUploadSeq;
    const trim = this.#toTrim;
    const counters: Counters = {
      ...this.#counters,
      writes: this.#counters.writes + 1,
      committed: this.#counters.committed + built.reduce((n, b) => n + b.records.length, 0),
    };
    let ids: number[] = [];
    let dictMark: number | undefined;
    try {
      this.#db.transaction(() => {
        dictMark = this.#dict.persist();
        const insertHead = this.#db.prepare(
          'INSERT INTO chunks (lane, epoch, first_seq, records, readings, critical, events, bulk, safety, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
        const insertBody = this.#db.prepare('INSERT INTO chunk_bodies (id, body) VALUES (?, ?)');
        let seq = firstSeq;
        ids = [];
        for (const b of built) {
          const h = b.head;
          const info = insertHead.run(
            h.lane,
            this.#live ? this.uploadEpoch : null,
            this.#live ? seq : null,
            h.records,
            h.readings,
            h.critical,
            h.events,
            h.bulk,
            h.safety,
            h.bytes,
          );
          const id = Number(info.lastInsertRowid);
          insertBody.run(id, b.body);
          ids.push(id);
          if (this.#live) seq += h.records;
        }
        if (trim.length > 0) {
          const list = JSON.stringify(trim);
          this.#db.prepare('DELETE FROM chunk_bodies WHERE id IN (SELECT value FROM json_each(?))').run(list);
          this.#db.prepare('DELETE FROM chunks WHERE id IN (SELECT value FROM json_each(?))').run(list);
        }
        const putMark = this.#db.prepare(
          'INSERT OR REPLACE INTO source_marks (source, boot_epoch, max_seq) VALUES (?, ?, ?)',
        );
        for (const key of this.#dirtyMarksFor(built)) {
          const [source, boot] = splitKey(key);
          putMark.run(source, boot, this.#marks.get(key));
        }
        this.#saveMeta(seq, counters);
      })();
    } catch (err) {
      if (dictMark !== undefined) this.#dict.rollback(dictMark);
      const e = err as { code?: string };
      if (e.code === 'SQLITE_FULL') return 'full';
      return writeError(this.file, err);
    }
    // Committed: what the transaction said is now true in memory too.
    this.#counters = counters;
    this.#toTrim = this.#toTrim.slice(trim.length);
    let seq = firstSeq;
    built.forEach((b, i) => {
      const h: ChunkHead = { id: ids[i]!, epoch: null, firstSeq: null, ...b.head };
      if (this.#live) {
        h.epoch = this.uploadEpoch;
        h.firstSeq = seq;
        seq += h.records;
        this.#numbered.push(h);
        this.#decoded.set(h.id, b.records);
        while (this.#decoded.size > 8) this.#decoded.delete(this.#decoded.keys().next().value!);
      }
    });
    this.#nextUploadSeq = seq;
    for (const key of this.#dirtyMarks) this.#writtenMarks.set(key, this.#marks.get(key)!);
    this.#dirtyMarks.clear();
    return 'ok';
  }

  /** Marks to write with this group: every stream whose mark moved since the last write. */
  #dirtyMarksFor(built: Built[]): Set<string> {
    for (const b of built) for (const r of b.records) this.#dirtyMarks.add(`${r.source}:${r.bootEpoch}`);
    // Streams whose records were all dropped by a quota moved too.
    for (const [k, v] of this.#marks) if (this.#writtenMarks.get(k) !== v) this.#dirtyMarks.add(k);
    return this.#dirtyMarks;
  }

  #written(batch: Pending[]): void {
    for (const p of batch) done(p.waiter);
    this.#o.onWritten?.();
    this.#enforceQuota();
  }

  #saveMeta(nextUploadSeq: number, counters: Counters = this.#counters): void {
    const put = this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    put.run('nextUploadSeq', String(nextUploadSeq));
    put.run('counters', JSON.stringify(counters));
  }

  #records(h: ChunkHead): JournalRecord[] {
    let records = this.#decoded.get(h.id);
    if (!records) {
      const row = this.#db.prepare('SELECT body FROM chunk_bodies WHERE id = ?').get(h.id) as
        | { body: Buffer }
        | undefined;
      if (!row) throw new JournalCorruptError(this.file, `chunk ${h.id} has no body`);
      try {
        records = decodeChunk(row.body, this.#dict);
      } catch (err) {
        throw new JournalCorruptError(this.file, `chunk ${h.id} is damaged (${(err as Error).message})`, err);
      }
      this.#decoded.set(h.id, records);
      while (this.#decoded.size > 8) this.#decoded.delete(this.#decoded.keys().next().value!);
    }
    return records;
  }

  #ackedWithin(): number {
    const h = this.#numbered[0];
    return h ? Math.max(0, this.#ackedSeq - h.firstSeq! + 1) : 0;
  }

  #addHeld(h: Pick<ChunkHead, 'readings' | 'critical' | 'events' | 'bulk'>, sign: 1 | -1): void {
    this.#held.reading += sign * h.readings;
    this.#held.critical += sign * h.critical;
    this.#held.event += sign * h.events;
    this.#held.bulk += sign * h.bulk;
  }

  #usedBytes(): number {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const free = this.#db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * JOURNAL_PAGE_SIZE;
  }

  /** Free pages inside the file: what a write can use without growing it. */
  #freeInside(): number {
    return (this.#db.pragma('freelist_count', { simple: true }) as number) * JOURNAL_PAGE_SIZE;
  }

  /** Before a write of about `need` bytes: keep within the quota and leave the disk its reserve. */
  #makeRoom(need: number): void {
    let free = Number.POSITIVE_INFINITY;
    try {
      free = this.#o.diskFree(dirname(this.file));
    } catch {
      // Unknown free space (statfs refused): SQLITE_FULL will tell.
    }
    this.#disk.freeBytes = free;
    const growth = Math.max(0, free - this.#o.reserveBytes);
    const inside = this.#freeInside();
    if (need > inside + growth) {
      this.#enterFull();
      this.#evict(need - inside - growth);
    }
  }

  #enforceQuota(): void {
    const used = this.#usedBytes();
    if (used <= this.quotaBytes) return;
    // A tenth more than the excess, so that eviction runs in steps, not on every write.
    this.#evict(used - this.quotaBytes * 0.9);
  }

  /**
   * Deletes the oldest unsent low-value events, then the oldest unsent readings, until about
   * `bytes` are freed inside the file. Never a numbered chunk, never critical or other events.
   */
  #evict(bytes: number): number {
    let freed = 0;
    const victims: ChunkHead[] = [];
    for (const lane of ['bulk', 'reading'] as const) {
      const rows = this.#db
        .prepare(`SELECT ${HEAD} FROM chunks WHERE lane = ? AND first_seq IS NULL ORDER BY id`)
        .iterate(lane) as Iterable<ChunkHead>;
      for (const h of rows) {
        if (freed >= bytes) break;
        victims.push(h);
        freed += h.bytes + 64;
      }
      if (freed >= bytes) break;
    }
    if (victims.length === 0) return 0;
    const list = JSON.stringify(victims.map((v) => v.id));
    const evictedReadings = victims.reduce((n, v) => n + v.readings, 0);
    const evictedBulk = victims.reduce((n, v) => n + v.bulk, 0);
    const counters: Counters = {
      ...this.#counters,
      evictedReadings: this.#counters.evictedReadings + evictedReadings,
      dropped: cloneDropped(this.#counters.dropped),
    };
    countDrop(counters.dropped.bulk, '(evicted)', evictedBulk);
    try {
      this.#db.transaction(() => {
        this.#db.prepare('DELETE FROM chunk_bodies WHERE id IN (SELECT value FROM json_each(?))').run(list);
        this.#db.prepare('DELETE FROM chunks WHERE id IN (SELECT value FROM json_each(?))').run(list);
        this.#saveMeta(this.#nextUploadSeq, counters);
      })();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_FULL') {
        this.#enterFull();
        return 0;
      }
      throw this.#fail(err);
    }
    this.#counters = counters;
    for (const v of victims) this.#addHeld(v, -1);
    this.#scheduleReport();
    return evictedReadings;
  }

  #enterFull(): void {
    if (this.#disk.state === 'full') return;
    this.#disk.state = 'full';
    this.#disk.sinceMs = this.#clock.nowMs();
    this.#disk.evictedAtStart = this.#counters.evictedReadings;
    this.#disk.droppedAtStart = this.#counters.dropped.readingsDiskFull;
    this.#o.log(
      'error',
      `the data disk is full (${formatBytes(this.#disk.freeBytes)} free, ${formatBytes(this.#o.reserveBytes)} kept for the system): keeping the newest readings, evicting the oldest unsent ones`,
    );
    this.note(
      'journal.disk-full',
      {
        freeBytes: Number.isFinite(this.#disk.freeBytes) ? this.#disk.freeBytes : null,
        reserveBytes: this.#o.reserveBytes,
        journalBytes: this.#usedBytes(),
        policy: 'evict the oldest unsent readings; drop new readings when none are left; never events',
      },
      'critical',
    );
  }

  /** Leaves the full state once a write went through and the disk has twice its reserve free. */
  #maybeRecovered(): void {
    if (this.#disk.state !== 'full') return;
    if (this.#disk.freeBytes < this.#o.reserveBytes * 2) return;
    const d = this.#disk;
    const data = {
      durationS: Math.round((this.#clock.nowMs() - (d.sinceMs ?? 0)) / 1000),
      evictedReadings: this.#counters.evictedReadings - d.evictedAtStart,
      droppedReadings: this.#counters.dropped.readingsDiskFull - d.droppedAtStart,
      freeBytes: d.freeBytes,
    };
    this.#disk = { ...d, state: 'ok', sinceMs: undefined };
    this.#o.log('info', `the data disk has room again (${formatBytes(d.freeBytes)} free)`);
    this.note('journal.disk-ok', data, 'info');
  }

  #retryLater(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed || this.#pending.length === 0) return;
      try {
        this.#write();
      } catch (err) {
        this.#o.log('error', (err as Error).message);
      }
    }, 2000);
  }

  /** A `journal.dropped` report at most every dropReportMs while drops happen. */
  #scheduleReport(): void {
    if (this.#reportTimer || this.#closed) return;
    this.#reportTimer = this.#clock.setTimeout(() => {
      this.#reportTimer = undefined;
      this.#report();
    }, this.#o.dropReportMs);
  }

  #report(): void {
    if (this.#closed) return;
    const now = this.#clock.nowMs();
    const cur = this.#counters.dropped;
    const prev = this.#reported.dropped;
    const delta = (a: Record<string, number>, b: Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(a)) if (v !== (b[k] ?? 0)) out[k] = v - (b[k] ?? 0);
      return out;
    };
    const data = {
      sinceMs: this.#reported.atMs,
      untilMs: now,
      event: delta(cur.event, prev.event),
      bulk: delta(cur.bulk, prev.bulk),
      readingsDiskFull: cur.readingsDiskFull - prev.readingsDiskFull,
      readingsEvicted: this.#counters.evictedReadings - this.#reported.evicted,
    };
    this.#reported = { atMs: now, dropped: cloneDropped(cur), evicted: this.#counters.evictedReadings };
    const any =
      Object.keys(data.event).length + Object.keys(data.bulk).length > 0 ||
      data.readingsDiskFull > 0 ||
      data.readingsEvicted > 0;
    if (any) {
      this.#o.log('warn', `journal dropped records: ${JSON.stringify(data)}`);
      this.note('journal.dropped', data, 'warning');
    }
  }

  #fail(err: unknown): Error {
    return writeError(this.file, err);
  }
}

// -------------------------------------------------------------------- helpers

/** A chunk row as ChunkHead (first_seq renamed). */
const HEAD =
  'id, lane, epoch, first_seq AS firstSeq, records, readings, critical, events, bulk, safety, bytes';

function toUpload(uploadEpoch: number, uploadSeq: number, r: JournalRecord): UploadRow {
  return {
    uploadEpoch,
    uploadSeq,
    source: r.source,
    sourceBootEpoch: r.bootEpoch,
    sourceSeq: r.seq,
    kind: r.record.kind,
    safety: isSafety(r.record),
    atMs: r.record.atMs,
    body: r.record,
  };
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

function emptyCounters(): Counters {
  return {
    committed: 0,
    duplicates: 0,
    evictedReadings: 0,
    acked: 0,
    quarantined: 0,
    writes: 0,
    dropped: { event: {}, bulk: {}, readingsDiskFull: 0 },
  };
}

function cloneDropped(d: DroppedCounts): DroppedCounts {
  return { event: { ...d.event }, bulk: { ...d.bulk }, readingsDiskFull: d.readingsDiskFull };
}

function countDrop(into: Record<string, number>, type: string, n = 1): void {
  if (n === 0) return;
  const key = type in into || Object.keys(into).length < MAX_DROP_TYPES ? type : '(other)';
  into[key] = (into[key] ?? 0) + n;
}

function done(w: Waiter): void {
  if (w.settled) return;
  if (--w.left === 0) {
    w.settled = true;
    w.resolve();
  }
}

function settle(w: Waiter, err: Error): void {
  if (w.settled) return;
  w.settled = true;
  w.reject(err);
}

function standInData(r: ParsedAgentRecord, reason: string, bytes: number): Record<string, unknown> {
  return {
    kind: r.kind,
    ...(r.kind === 'event' ? { type: r.type } : {}),
    ...(r.kind === 'reading' ? { channel: r.channel } : {}),
    reason,
    bytes,
  };
}

function freeBytesOf(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'unknown';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
