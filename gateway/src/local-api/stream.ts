// The live stream of committed records to subscribers (WebSocket /api/stream). Each subscriber
// has its filters and a bounded queue: publishing only filters and appends (the agent never waits
// on a subscriber), sending happens later with at most two messages in flight per subscriber, and
// when a queue is full its oldest records are dropped, counted, and reported to that subscriber
// before the next records it gets.
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { fieldPath } from './api-error.ts';
import type { CommittedRecord } from './committed.ts';
import {
  channelPatterns,
  channelTopic,
  checkChannelPattern,
  checkEventPattern,
  eventPatterns,
  type PatternSet,
} from './patterns.ts';

export const STREAM_LIMITS = {
  patternsPerKind: 64,
  defaultQueue: 10_000,
  minQueue: 100,
  maxQueue: 100_000,
  /** Records per WebSocket message at most. */
  batch: 1000,
  /** Messages sent and not yet written to the socket, per subscriber. */
  inFlight: 2,
  /** Largest message a client may send (a subscribe). */
  maxClientMessageBytes: 64 * 1024,
};

const patternList = z.array(z.string()).max(STREAM_LIMITS.patternsPerKind).default([]);

export const subscribeSchema = z.strictObject({
  op: z.literal('subscribe'),
  /** Channel patterns `device/point` with `*`; readings of matching channels. */
  readings: patternList,
  /** Channel patterns of counters whose closed quarter-hour intervals to send. */
  intervals: patternList,
  /** Event type patterns, e.g. `alarm.*`. */
  events: patternList,
  /** Queue length in records; beyond it the oldest are dropped and counted. */
  queue: z.int().min(STREAM_LIMITS.minQueue).max(STREAM_LIMITS.maxQueue).default(STREAM_LIMITS.defaultQueue),
});
export type SubscribeRequest = z.input<typeof subscribeSchema>;

interface Filter {
  readings: PatternSet;
  intervals: PatternSet;
  events: PatternSet;
}

export interface SubscriberStats {
  id: number;
  token: string;
  readings: readonly string[];
  intervals: readonly string[];
  events: readonly string[];
  queued: number;
  queueLimit: number;
  delivered: number;
  dropped: number;
}

class Subscriber {
  filter: Filter | undefined;
  queueLimit: number = STREAM_LIMITS.defaultQueue;
  queue: string[] = [];
  head = 0;
  inFlight = 0;
  delivered = 0;
  dropped = 0;
  droppedUnreported = 0;
  closed = false;
  constructor(
    readonly id: number,
    readonly token: string,
    readonly ws: WebSocket,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Queues one record; returns how many old ones had to be dropped for it (0 or 1). */
  push(json: string): number {
    this.queue.push(json);
    const over = this.queued - this.queueLimit;
    if (over > 0) {
      this.head += over;
      this.dropped += over;
      this.droppedUnreported += over;
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return over > 0 ? over : 0;
  }
}

/** How a record looks on the stream (and to `brana in`). */
function wireRecord(r: CommittedRecord, committedMs: number, as: 'reading' | 'interval' | 'event'): string {
  const key = { source: r.source, bootEpoch: r.bootEpoch, seq: r.seq, committedMs };
  const b = r.record;
  if (as === 'reading' && b.kind === 'reading') {
    return JSON.stringify({
      kind: 'reading',
      topic: channelTopic(b.channel),
      value: b.value,
      unit: b.unit,
      quality: b.quality,
      atMs: b.atMs,
      channelKind: b.channelKind,
      total: b.total,
      ...key,
    });
  }
  if (b.kind !== 'event') return 'null';
  if (as === 'interval') {
    const d = b.data as Record<string, unknown>;
    return JSON.stringify({
      kind: 'interval',
      topic: channelTopic(String(d.channel)),
      value: d.delta,
      unit: d.unit,
      quality: d.quality,
      startMs: d.startMs,
      endMs: d.endMs,
      atMs: b.atMs,
      ...key,
    });
  }
  return JSON.stringify({
    kind: 'event',
    type: b.type,
    severity: b.severity,
    safety: b.safety,
    data: b.data,
    atMs: b.atMs,
    ...key,
  });
}

export interface StreamHubOptions {
  nowMs: () => number;
  maxSubscribers: number;
  /** Called with the number of records dropped from full queues in one publish. */
  onDrop?: (count: number) => void;
}

export class StreamHub {
  readonly #subs = new Set<Subscriber>();
  readonly #o: StreamHubOptions;
  #nextId = 1;
  #flushScheduled = false;
  #droppedTotal = 0;

  constructor(options: StreamHubOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#subs.size;
  }

  full(): boolean {
    return this.#subs.size >= this.#o.maxSubscribers;
  }

  /** Takes a WebSocket whose token was checked; it sends `subscribe` messages to set its filters. */
  attach(ws: WebSocket, token: string): void {
    const sub = new Subscriber(this.#nextId++, token, ws);
    this.#subs.add(sub);
    ws.on('message', (data, isBinary) => this.#onMessage(sub, data as Buffer, isBinary));
    const drop = () => {
      sub.closed = true;
      this.#subs.delete(sub);
    };
    ws.on('close', drop);
    ws.on('error', drop);
    ws.send(JSON.stringify({ type: 'hello', subscriber: sub.id }));
  }

  #onMessage(sub: Subscriber, data: Buffer, isBinary: boolean): void {
    const fail = (field: string, message: string): void => {
      sub.ws.send(
        JSON.stringify({ type: 'error', code: 'bad-request', field, message: `${field}: ${message}` }),
      );
    };
    if (isBinary) {
      fail('message', 'expected a JSON text message');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch (err) {
      fail('message', `not JSON (${(err as Error).message})`);
      return;
    }
    const parsed = subscribeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      fail(
        fieldPath('', path) || 'message',
        issue.code === 'unrecognized_keys' ? 'unknown field; remove it' : issue.message,
      );
      return;
    }
    const canonical: Record<'readings' | 'intervals' | 'events', string[]> = {
      readings: [],
      intervals: [],
      events: [],
    };
    for (const kind of ['readings', 'intervals', 'events'] as const) {
      for (const [i, p] of parsed.data[kind].entries()) {
        const c = kind === 'events' ? checkEventPattern(p) : checkChannelPattern(p);
        if (!c.ok) {
          fail(`${kind}[${i}]`, c.message);
          return;
        }
        canonical[kind].push(c.pattern);
      }
    }
    sub.filter = {
      readings: channelPatterns(canonical.readings),
      intervals: channelPatterns(canonical.intervals),
      events: eventPatterns(canonical.events),
    };
    sub.queueLimit = parsed.data.queue;
    sub.ws.send(JSON.stringify({ type: 'subscribed', ...canonical, queue: sub.queueLimit }));
  }

  /** Offers committed records to every subscriber. Never waits; sending happens on a later turn. */
  publish(records: readonly CommittedRecord[], committedMs = this.#o.nowMs()): void {
    if (this.#subs.size === 0) return;
    let any = false;
    let dropped = 0;
    for (const r of records) {
      const b = r.record;
      let reading: string | undefined;
      let interval: string | undefined;
      let event: string | undefined;
      for (const sub of this.#subs) {
        const f = sub.filter;
        if (!f || sub.closed) continue;
        if (b.kind === 'reading') {
          if (f.readings.matches(b.channel)) {
            reading ??= wireRecord(r, committedMs, 'reading');
            dropped += sub.push(reading);
            any = true;
          }
        } else if (b.kind === 'event') {
          if (b.type === 'fieldbus.interval') {
            const ch = (b.data as { channel?: unknown }).channel;
            if (typeof ch === 'string' && f.intervals.matches(ch)) {
              interval ??= wireRecord(r, committedMs, 'interval');
              dropped += sub.push(interval);
              any = true;
            }
          }
          if (f.events.matches(b.type)) {
            event ??= wireRecord(r, committedMs, 'event');
            dropped += sub.push(event);
            any = true;
          }
        }
      }
    }
    if (dropped > 0) {
      this.#droppedTotal += dropped;
      this.#o.onDrop?.(dropped);
    }
    if (any && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        for (const sub of this.#subs) this.#flush(sub);
      });
    }
  }

  #flush(sub: Subscriber): void {
    while (!sub.closed && sub.queued > 0 && sub.inFlight < STREAM_LIMITS.inFlight) {
      if (sub.ws.readyState !== sub.ws.OPEN) return;
      if (sub.droppedUnreported > 0) {
        const count = sub.droppedUnreported;
        sub.droppedUnreported = 0;
        sub.ws.send(JSON.stringify({ type: 'dropped', count, total: sub.dropped, queue: sub.queueLimit }));
      }
      const n = Math.min(sub.queued, STREAM_LIMITS.batch);
      const batch = sub.queue.slice(sub.head, sub.head + n);
      sub.head += n;
      if (sub.head === sub.queue.length) {
        sub.queue = [];
        sub.head = 0;
      }
      sub.inFlight++;
      sub.delivered += n;
      sub.ws.send(`{"type":"records","records":[${batch.join(',')}]}`, () => {
        sub.inFlight--;
        this.#flush(sub);
      });
    }
  }

  stats(): { subscribers: SubscriberStats[]; dropped: number } {
    return {
      dropped: this.#droppedTotal,
      subscribers: [...this.#subs].map((s) => ({
        id: s.id,
        token: s.token,
        readings: s.filter?.readings.patterns ?? [],
        intervals: s.filter?.intervals.patterns ?? [],
        events: s.filter?.events.patterns ?? [],
        queued: s.queued,
        queueLimit: s.queueLimit,
        delivered: s.delivered,
        dropped: s.dropped,
      })),
    };
  }

  close(): void {
    for (const s of this.#subs) {
      s.closed = true;
      s.ws.terminate();
    }
    this.#subs.clear();
  }
}
