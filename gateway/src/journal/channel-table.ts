// The journal's channel dictionary: each reading's (channel, unit, kind) stored once in the
// `channels` table and referred to by its number in chunks, so a reading does not repeat its name.
// Numbers are dense from 0; new ones are written in the same transaction as the first chunk that
// uses them.
import type Database from 'better-sqlite3';
import type { ChannelDictionary } from './chunk-codec.ts';

/** Beyond this many channels, readings of new ones are stored as JSON (a firmware making up names). */
const MAX_CHANNELS = 50_000;

/** The channel dictionary in the journal file: loaded at open, new entries written with a group. */
export class ChannelTable implements ChannelDictionary {
  readonly #db: Database.Database;
  readonly #byKey = new Map<string, number>();
  readonly #byRef: { channel: string; unit?: string; kind?: 'counter' | 'gauge' | 'status' }[] = [];
  #persisted: number;

  constructor(db: Database.Database) {
    this.#db = db;
    const rows = db.prepare('SELECT id, channel, unit, kind FROM channels ORDER BY id').all() as {
      id: number;
      channel: string;
      unit: string | null;
      kind: 'counter' | 'gauge' | 'status' | null;
    }[];
    for (const r of rows) {
      // Ids are dense from 0; a gap would mean a damaged table: stop there, later readings go as JSON.
      if (r.id !== this.#byRef.length) break;
      const entry = {
        channel: r.channel,
        ...(r.unit === null ? {} : { unit: r.unit }),
        ...(r.kind === null ? {} : { kind: r.kind }),
      };
      this.#byRef.push(entry);
      this.#byKey.set(keyOf(r.channel, entry.unit, entry.kind), r.id);
    }
    this.#persisted = this.#byRef.length;
  }

  ref(
    channel: string,
    unit: string | undefined,
    kind: 'counter' | 'gauge' | 'status' | undefined,
  ): number | undefined {
    const key = keyOf(channel, unit, kind);
    let ref = this.#byKey.get(key);
    if (ref === undefined && this.#byRef.length < MAX_CHANNELS) {
      ref = this.#byRef.length;
      this.#byRef.push({
        channel,
        ...(unit === undefined ? {} : { unit }),
        ...(kind === undefined ? {} : { kind }),
      });
      this.#byKey.set(key, ref);
    }
    return ref;
  }

  lookup(ref: number) {
    return this.#byRef[ref];
  }

  /**
   * Inside a write transaction: writes the entries made since the last committed one and returns
   * the mark to go back to if the transaction fails (entries stay in memory and go with the next).
   */
  persist(): number {
    const before = this.#persisted;
    if (before === this.#byRef.length) return before;
    const put = this.#db.prepare(
      'INSERT OR REPLACE INTO channels (id, channel, unit, kind) VALUES (?, ?, ?, ?)',
    );
    for (let i = before; i < this.#byRef.length; i++) {
      const e = this.#byRef[i]!;
      put.run(i, e.channel, e.unit ?? null, e.kind ?? null);
    }
    this.#persisted = this.#byRef.length;
    return before;
  }

  rollback(mark: number): void {
    this.#persisted = mark;
  }
}

function keyOf(channel: string, unit: string | undefined, kind: string | undefined): string {
  return `${channel}\u0000${unit ?? ''}\u0000${kind ?? ''}`;
}
