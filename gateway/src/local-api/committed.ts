// Records as the journal committed them: the firmware's (or the local API's own) numbered records.
// The stream hands each to flows once: a firmware resends what was not acked after a reconnect,
// so anything at or below the highest seq already seen of its (source, bootEpoch) is a repeat.
import type { ParsedAgentRecord } from '@brana/firmware';

export interface CommittedRecord {
  /** 'rt', 'fieldbus', 'flow' (this API's operator alarms) or 'agent'. */
  source: string;
  bootEpoch: number;
  seq: number;
  record: ParsedAgentRecord;
}

const MAX_STREAMS = 1000;

export class SeenMarks {
  readonly #marks = new Map<string, number>();

  /** The records not seen before, in order; remembers them. */
  fresh(records: readonly CommittedRecord[]): CommittedRecord[] {
    const out: CommittedRecord[] = [];
    for (const r of records) {
      const key = `${r.source}:${r.bootEpoch}`;
      const mark = this.#marks.get(key) ?? 0;
      if (r.seq <= mark) continue;
      if (!this.#marks.has(key) && this.#marks.size >= MAX_STREAMS) {
        const oldest = this.#marks.keys().next().value;
        if (oldest !== undefined) this.#marks.delete(oldest);
      }
      this.#marks.set(key, r.seq);
      out.push(r);
    }
    return out;
  }
}
