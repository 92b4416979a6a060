// Exactly-once telemetry ingest. Each record is keyed by (gateway, bootEpoch, seq); unique indexes
// on that key turn at-least-once sending into exactly-once storage. The ack names, per boot epoch,
// the highest seq below which nothing is missing.
//
// Why it is shaped like this (docs/benchmarks.md has the figures): a reading costs the server
// about what one raw prepared insert costs only when the per-row work is a few array writes. So a
// batch is checked for readings already stored with one range query per boot epoch instead of one
// INSERT OR IGNORE per row, the new rows go in through multi-row INSERT statements, and the
// rollups are added up in memory and upserted once per commit (one row per channel and bucket for
// every batch of a group commit together), not once per batch.
import type {
  AckEntry,
  EventRecordInput,
  ReadingChannel,
  ReadingRecord,
  TelemetryAck,
} from '@brana/protocol';
import type Database from 'better-sqlite3';
import { asColumns, type ReadingColumns } from './columns.ts';
import { addToQuarter, mergeQuarters, type Quarters, RollupWriter } from './rollups.ts';
import { type EpochSpan, SequenceIndex } from './sequences.ts';

/** Records per group commit at most (a batch larger than this still goes in whole, alone). */
const GROUP_MAX_RECORDS = 4000;

/** Rows per multi-row INSERT: 7 parameters each, far below SQLite's 32,766 bound variables. */
const INSERT_CHUNK = 100;
const READING_COLUMNS = 7;

export interface IngestBatch {
  /** As records or as the decoder's columns (columns.ts); records are turned into columns first. */
  readings: readonly ReadingRecord[] | ReadingColumns;
  events: readonly EventRecordInput[];
}

/** A batch as the store works on it. */
interface ColumnBatch {
  readings: ReadingColumns;
  events: readonly EventRecordInput[];
}

function columnBatch(b: IngestBatch): ColumnBatch {
  return { readings: asColumns(b.readings), events: b.events };
}

/** Entries of a batch's channel list that share a key, or null when every key is its own. */
function sharedKeys(channels: readonly ReadingChannel[]): Map<string, number> | null {
  if (channels.length < 2) return null;
  const keys = new Set<string>();
  for (const c of channels) keys.add(c.key);
  return keys.size === channels.length ? null : new Map();
}

interface GroupJob {
  gatewayNum: number;
  batch: ColumnBatch;
  now: number;
  resolve: (ack: TelemetryAck) => void;
  reject: (error: unknown) => void;
}

type GroupOutcome = { ok: true; ack: TelemetryAck } | { ok: false; error: unknown };

interface ChannelRow {
  id: number;
  unit: string | null;
  kind: string | null;
}

export class TelemetryStore {
  private readonly sqlite: Database.Database;
  private readonly insertReadings = new Map<number, Database.Statement>();
  private readonly insertEvent: Database.Statement;
  private readonly rollups: RollupWriter;
  private readonly sequences: SequenceIndex;
  private readonly insertChannel: Database.Statement;
  private readonly selectChannel: Database.Statement;
  private readonly updateChannelMeta: Database.Statement;
  private readonly channelCache = new Map<number, Map<string, ChannelRow>>();
  private readonly ingestTx: Database.Transaction<
    (gatewayNum: number, batch: ColumnBatch, now: number) => TelemetryAck
  >;
  private readonly groupTx: Database.Transaction<(jobs: readonly GroupJob[]) => TelemetryAck[]>;
  private readonly groupTxSavepoints: Database.Transaction<(jobs: readonly GroupJob[]) => GroupOutcome[]>;
  private pending: GroupJob[] = [];
  private flushScheduled = false;

  /**
   * `beforeTransaction` runs before each transaction this store begins (the writer thread waits
   * there while the event loop writes; see write-gate/write-gate.ts).
   */
  constructor(
    sqlite: Database.Database,
    private readonly options: { beforeTransaction?: () => void } = {},
  ) {
    this.sqlite = sqlite;
    this.insertEvent = sqlite.prepare(
      'INSERT OR IGNORE INTO events (gateway_num, boot_epoch, seq, ts, kind, severity, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.rollups = new RollupWriter(sqlite);
    this.insertChannel = sqlite.prepare(
      'INSERT OR IGNORE INTO channels (gateway_num, key, unit, kind) VALUES (?, ?, ?, ?)',
    );
    this.selectChannel = sqlite.prepare(
      'SELECT id, unit, kind FROM channels WHERE gateway_num = ? AND key = ?',
    );
    this.updateChannelMeta = sqlite.prepare('UPDATE channels SET unit = ?, kind = ? WHERE id = ?');
    this.sequences = new SequenceIndex(sqlite);
    this.ingestTx = sqlite.transaction((g: number, b: ColumnBatch, now: number) => {
      const quarters: Quarters = new Map();
      const ack = this.ingestInTx(g, b, now, quarters);
      this.rollups.write(quarters);
      return ack;
    });
    // A group first runs as one plain transaction. Only when one of its batches throws does it
    // run again with each batch in its own savepoint, so that one is rolled back alone while the
    // others still commit. Not every time: SQLite copies each page a savepoint touches first into
    // a sub-journal, which cost as much as a fifth of the group's time.
    this.groupTx = sqlite.transaction((jobs: readonly GroupJob[]) => {
      const quarters: Quarters = new Map();
      const acks = jobs.map((j) => this.ingestInTx(j.gatewayNum, j.batch, j.now, quarters));
      this.rollups.write(quarters);
      return acks;
    });
    const jobTx = sqlite.transaction((g: number, b: ColumnBatch, now: number, q: Quarters) =>
      this.ingestInTx(g, b, now, q),
    );
    this.groupTxSavepoints = sqlite.transaction((jobs: readonly GroupJob[]) => {
      const quarters: Quarters = new Map();
      const outcomes = jobs.map((j): GroupOutcome => {
        const own: Quarters = new Map();
        try {
          const ack = jobTx(j.gatewayNum, j.batch, j.now, own);
          mergeQuarters(quarters, own);
          return { ok: true, ack };
        } catch (error) {
          // A channel row this batch made is gone with its savepoint: later batches of the group
          // must not reuse its cached id (nothing else would stop them storing readings under it).
          this.channelCache.clear();
          return { ok: false, error };
        }
      });
      // If this throws, the whole group rolls back and every batch of it is rejected.
      this.rollups.write(quarters);
      return outcomes;
    });
  }

  /** Stores a batch in one transaction and returns the acks of every boot epoch it touched. */
  ingest(gatewayNum: number, batch: IngestBatch, now = Date.now()): TelemetryAck {
    try {
      const columns = columnBatch(batch);
      this.options.beforeTransaction?.();
      return this.ingestTx.immediate(gatewayNum, columns, now);
    } catch (error) {
      this.channelCache.clear(); // a channel row made by the rolled-back batch is gone again
      throw error;
    }
  }

  /**
   * Like ingest, but batches that arrive within two turns of the event loop (several gateways,
   * or one gateway with batches in flight) share one commit. The promise resolves only after that
   * commit, so an ack still means stored.
   */
  ingestGrouped(gatewayNum: number, batch: IngestBatch, now = Date.now()): Promise<TelemetryAck> {
    return new Promise((resolve, reject) => {
      this.pending.push({ gatewayNum, batch: columnBatch(batch), now, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Two turns, not one: batches whose bytes are still arriving when the first batch is
        // parsed (a gateway with several in flight, other HTTP posts) join the same commit;
        // that took about a quarter of the commits out of the ingest benchmark.
        setImmediate(() => setImmediate(() => this.flush()));
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    // At most GROUP_MAX_RECORDS per commit (and at least one batch): a commit holds the database's
    // write lock, which the event loop's connection may be waiting for; the rest go next.
    let records = 0;
    let take = 0;
    while (take < this.pending.length) {
      const b = this.pending[take]!.batch;
      const size = b.readings.count + b.events.length;
      if (take > 0 && records + size > GROUP_MAX_RECORDS) break;
      records += size;
      take++;
    }
    const jobs = take === this.pending.length ? this.pending : this.pending.slice(0, take);
    this.pending = take === this.pending.length ? [] : this.pending.slice(take);
    if (this.pending.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    try {
      // BEGIN IMMEDIATE: the transaction reads first (what is stored already) and then writes;
      // a deferred one that meets another connection's write lock (the checkpoint worker's
      // RESTART, a backup) at its first write fails at once, while IMMEDIATE waits busy_timeout.
      this.options.beforeTransaction?.();
      const acks = this.groupTx.immediate(jobs);
      for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(acks[i]!);
      return;
    } catch (error) {
      this.channelCache.clear(); // a channel row made in the rolled-back transaction is gone again
      if (jobs.length === 1) {
        jobs[0]!.reject(error);
        return;
      }
    }
    let outcomes: GroupOutcome[];
    try {
      this.options.beforeTransaction?.();
      outcomes = this.groupTxSavepoints.immediate(jobs);
    } catch (error) {
      // The commit itself failed (or the database is closed): nothing of the group is stored.
      this.channelCache.clear();
      for (const j of jobs) j.reject(error);
      return;
    }
    for (let i = 0; i < jobs.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) jobs[i]!.resolve(o.ack);
      else {
        this.channelCache.clear();
        jobs[i]!.reject(o.error);
      }
    }
  }

  /** Every watermark held for a gateway (sent after hello so a gateway can trim after an outage). */
  watermarks(gatewayNum: number): AckEntry[] {
    return this.sequences.watermarks(gatewayNum);
  }

  private channelsOf(gatewayNum: number): Map<string, ChannelRow> {
    let perGateway = this.channelCache.get(gatewayNum);
    if (!perGateway) {
      perGateway = new Map();
      this.channelCache.set(gatewayNum, perGateway);
    }
    return perGateway;
  }

  /** The channel's id, made or its unit and kind updated as a reading with this entry says. */
  private channelId(gatewayNum: number, perGateway: Map<string, ChannelRow>, ch: ReadingChannel): number {
    let c = perGateway.get(ch.key);
    if (!c) {
      this.insertChannel.run(gatewayNum, ch.key, ch.unit ?? null, ch.kind ?? null);
      c = this.selectChannel.get(gatewayNum, ch.key) as ChannelRow;
      perGateway.set(ch.key, c);
    }
    if ((ch.unit !== undefined && ch.unit !== c.unit) || (ch.kind !== undefined && ch.kind !== c.kind)) {
      c = { id: c.id, unit: ch.unit ?? c.unit, kind: ch.kind ?? c.kind };
      this.updateChannelMeta.run(c.unit, c.kind, c.id);
      perGateway.set(ch.key, c);
    }
    return c.id;
  }

  private insertStatement(rows: number): Database.Statement {
    let s = this.insertReadings.get(rows);
    if (!s) {
      // OR IGNORE although spans() already left out every stored reading: with it a multi-row
      // statement can never abort half-way, so SQLite keeps no statement journal for it (a
      // copy of every page it touches, which made a 10-row INSERT slower than 10 single ones).
      s = this.sqlite.prepare(
        `INSERT OR IGNORE INTO readings (gateway_num, boot_epoch, seq, channel_id, ts, value, quality) VALUES ${'(?, ?, ?, ?, ?, ?, ?), '.repeat(rows - 1)}(?, ?, ?, ?, ?, ?, ?)`,
      );
      this.insertReadings.set(rows, s);
    }
    return s;
  }

  private insertChunk(params: unknown[], rows: number): void {
    const { changes } = this.insertStatement(rows).run(params);
    // Cannot differ unless spans() missed a stored row; the batch then rolls back rather than
    // count rollups and acks for rows that were not inserted.
    if (changes !== rows) throw new Error(`inserted ${changes} of ${rows} new readings`);
  }

  private ingestInTx(gatewayNum: number, batch: ColumnBatch, now: number, quarters: Quarters): TelemetryAck {
    const spans = this.sequences.spans(gatewayNum, batch.readings, batch.events);
    const perGateway = this.channelsOf(gatewayNum);
    const { count, numbers, quality: qualities, channel, channels } = batch.readings;
    // Each channel entry is resolved to its id once per batch; entries that share a key (a
    // channel whose unit or kind changes within the batch) again whenever the entry in use for
    // that key changes, so the metadata is updated in reading order as before.
    const ids = new Array<number>(channels.length).fill(-1);
    const inUse = sharedKeys(channels);
    let stored = 0;
    let params: unknown[] = new Array(INSERT_CHUNK * READING_COLUMNS);
    let n = 0; // rows in params
    let span: EpochSpan | undefined;
    let spanEpoch = -1;
    for (let i = 0; i < count; i++) {
      const bootEpoch = numbers[i * 4]!;
      const seq = numbers[i * 4 + 1]!;
      if (bootEpoch !== spanEpoch) {
        span = spans.get(bootEpoch);
        spanEpoch = bootEpoch;
      }
      const seen = span!.stored;
      if (seen !== null) {
        if (seen.has(seq)) continue;
        seen.add(seq); // a seq repeated later in the same batch is a duplicate too
      }
      const entry = channel[i]!;
      let channelId = ids[entry]!;
      if (channelId < 0 || (inUse !== null && inUse.get(channels[entry]!.key) !== entry)) {
        channelId = this.channelId(gatewayNum, perGateway, channels[entry]!);
        ids[entry] = channelId;
        inUse?.set(channels[entry]!.key, entry);
      }
      const ts = numbers[i * 4 + 2]!;
      const raw = numbers[i * 4 + 3]!;
      const value = Number.isNaN(raw) ? null : raw;
      const quality = qualities[i]!;
      const o = n * READING_COLUMNS;
      params[o] = gatewayNum;
      params[o + 1] = bootEpoch;
      params[o + 2] = seq;
      params[o + 3] = channelId;
      params[o + 4] = ts;
      params[o + 5] = value;
      params[o + 6] = quality;
      if (++n === INSERT_CHUNK) {
        this.insertChunk(params, n);
        n = 0;
      }
      stored++;
      // Only newly stored, usable values enter the rollups, so a resent batch never counts twice.
      if (value === null || quality === 2) continue;
      addToQuarter(quarters, channelId, ts, value);
    }
    if (n > 0) {
      params.length = n * READING_COLUMNS;
      this.insertChunk(params, n);
      params = [];
    }
    for (const e of batch.events) {
      const res = this.insertEvent.run(
        gatewayNum,
        e.bootEpoch,
        e.seq,
        e.ts,
        e.kind,
        e.severity,
        JSON.stringify(e.data ?? {}),
      );
      stored += res.changes;
    }

    const acks = this.sequences.acks(gatewayNum, spans, now);
    const total = count + batch.events.length;
    return { acks, stored, duplicates: total - stored };
  }
}
