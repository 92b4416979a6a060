// Where the rt loop's events go: a bounded queue that never blocks the loop. Full means the record
// is dropped and counted. Backed by the agent IPC link, or by a ring drained to a stream (stdout)
// when no agent runs (bench, development).
import type { Writable } from 'node:stream';
import type { AgentLink, AgentRecord } from '../ipc/index.ts';

export interface EventSinkStats {
  accepted: number;
  dropped: number;
}

export interface EventSink {
  /** Queues a record; false when it was dropped because the queue is full. Never blocks. */
  emit(record: AgentRecord): boolean;
  stats(): EventSinkStats;
  close(): Promise<void>;
}

/** Events to the gateway agent over its Unix socket (journalled, acked, resent after reconnects). */
export function agentEventSink(link: AgentLink): EventSink {
  let accepted = 0;
  return {
    emit(record) {
      const ok = link.send(record);
      if (ok) accepted++;
      return ok;
    },
    stats: () => ({ accepted, dropped: link.stats().dropped }),
    close: () => link.close(),
  };
}

/**
 * A fixed-size ring of records drained as JSON lines into `out` from a later turn of the event
 * loop, pausing while the stream is backed up. With no `out`, records are only counted and kept.
 */
export class RingEventSink implements EventSink {
  private readonly ring: (AgentRecord | undefined)[];
  private head = 0;
  private size = 0;
  private accepted = 0;
  private dropped = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    readonly limit: number,
    private readonly out?: Writable,
  ) {
    this.ring = new Array(limit);
    out?.on('drain', () => this.schedule());
  }

  emit(record: AgentRecord): boolean {
    if (this.closed || this.size >= this.limit) {
      this.dropped++;
      return false;
    }
    this.ring[(this.head + this.size) % this.limit] = record;
    this.size++;
    this.accepted++;
    this.schedule();
    return true;
  }

  /** Removes and returns what is queued (for tests and for draining without a stream). */
  take(): AgentRecord[] {
    const out: AgentRecord[] = [];
    while (this.size > 0) out.push(this.shift()!);
    return out;
  }

  stats(): EventSinkStats {
    return { accepted: this.accepted, dropped: this.dropped };
  }

  async close(): Promise<void> {
    this.flushNow();
    this.closed = true;
  }

  private shift(): AgentRecord | undefined {
    const r = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.limit;
    this.size--;
    return r;
  }

  private schedule(): void {
    if (this.scheduled || this.out === undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushNow();
    });
  }

  private flushNow(): void {
    const out = this.out;
    if (out === undefined) return;
    while (this.size > 0 && !out.writableNeedDrain) {
      out.write(`${JSON.stringify(this.shift())}\n`);
    }
  }
}
