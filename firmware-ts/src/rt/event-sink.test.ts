import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RingEventSink } from './event-sink.ts';

const ev = (n: number) => ({
  kind: 'event' as const,
  type: 'preemption.test',
  safety: false,
  atMs: n,
  data: {},
});

describe('ring event sink', () => {
  it('never blocks: beyond the limit records are dropped and counted', () => {
    const sink = new RingEventSink(3);
    const results = [1, 2, 3, 4, 5].map((n) => sink.emit(ev(n)));
    expect(results).toEqual([true, true, true, false, false]);
    expect(sink.stats()).toEqual({ accepted: 3, dropped: 2 });
    expect(sink.take().map((r) => r.atMs)).toEqual([1, 2, 3]);
    expect(sink.emit(ev(6))).toBe(true);
  });

  it('drains to a stream as JSON lines on a later turn', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (c: Buffer) => lines.push(...c.toString().trim().split('\n')));
    const sink = new RingEventSink(10, out);
    sink.emit(ev(1));
    sink.emit(ev(2));
    expect(lines).toEqual([]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => JSON.parse(l).atMs)).toEqual([1, 2]);
  });
});
