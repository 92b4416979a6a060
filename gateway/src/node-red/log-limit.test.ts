import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitLog,
  DEFAULT_LOG_LIMIT,
  initialLogLimit,
  type LogLimitState,
  type NodeRedLogLevel,
  takeSummary,
} from './log-limit.ts';

interface Line {
  level: NodeRedLogLevel;
  node: string | undefined;
  gapMs: number;
}

const lineArb: fc.Arbitrary<Line> = fc.record({
  level: fc.constantFrom<NodeRedLogLevel>('fatal', 'error', 'warn', 'info'),
  node: fc.option(fc.constantFrom('n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'), { nil: undefined }),
  gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 120_000 })),
});

const classOf = (l: NodeRedLogLevel) =>
  l === 'fatal' || l === 'error' ? 'errors' : l === 'warn' ? 'warnings' : 'info';

/** Runs the lines through the limiter, taking summaries as the agent does (each line, then at the end). */
function run(lines: Line[]) {
  let s: LogLimitState = initialLogLimit(0);
  let now = 0;
  const admitted: { i: number; at: number; level: NodeRedLogLevel }[] = [];
  const summaries: { at: number; dropped: number; nodes: number }[] = [];
  lines.forEach((l, i) => {
    now += l.gapMs;
    const node = l.node ? { id: l.node, type: 'function' } : undefined;
    const r = admitLog(s, l.level, node, now);
    s = r.state;
    if (r.admit) admitted.push({ i, at: now, level: l.level });
    const t = takeSummary(s, now);
    s = t.state;
    if (t.summary)
      summaries.push({
        at: now,
        dropped: Object.values(t.summary.dropped).reduce((a, b) => a + b, 0),
        nodes: t.summary.nodes.length,
      });
  });
  const last = takeSummary(s, now, true).summary;
  const remaining = last ? Object.values(last.dropped).reduce((a, b) => a + b, 0) : 0;
  return { admitted, summaries, remaining };
}

describe('Node-RED log limit', () => {
  it('property: every line is either admitted or counted in exactly one summary', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 400 }), (lines) => {
        const r = run(lines);
        const dropped = r.summaries.reduce((a, s) => a + s.dropped, 0) + r.remaining;
        expect(r.admitted.length + dropped).toBe(lines.length);
      }),
    );
  });

  it('property: in any time window, each class admits at most burst + rate × window', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 300 }), (lines) => {
        const { admitted } = run(lines);
        for (const cls of ['errors', 'warnings', 'info'] as const) {
          const xs = admitted.filter((a) => classOf(a.level) === cls);
          const perMin = DEFAULT_LOG_LIMIT.perMinute[cls];
          for (let a = 0; a < xs.length; a++) {
            for (let b = a; b < xs.length; b++) {
              const windowMs = xs[b]!.at - xs[a]!.at;
              expect(b - a + 1).toBeLessThanOrEqual(
                DEFAULT_LOG_LIMIT.burst + (perMin * windowMs) / 60_000 + 1e-9,
              );
            }
          }
        }
      }),
    );
  });

  it('property: no class takes the room of another (its lines fare the same with or without the others)', () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 300 }),
        fc.constantFrom('errors', 'warnings', 'info'),
        (lines, cls) => {
          // Keep time: a removed line's gap moves to the next kept line.
          const only: Line[] = [];
          let carry = 0;
          const keptIndex: number[] = [];
          lines.forEach((l, i) => {
            if (classOf(l.level) === cls) {
              only.push({ ...l, gapMs: l.gapMs + carry });
              keptIndex.push(i);
              carry = 0;
            } else carry += l.gapMs;
          });
          const withOthers = run(lines)
            .admitted.filter((a) => classOf(a.level) === cls)
            .map((a) => a.i);
          const alone = run(only).admitted.map((a) => keptIndex[a.i]);
          expect(withOthers).toEqual(alone);
        },
      ),
    );
  });

  it('property: summaries come at most once per summaryEveryMs', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 400 }), (lines) => {
        const { summaries } = run(lines);
        for (let i = 1; i < summaries.length; i++) {
          expect(summaries[i]!.at - summaries[i - 1]!.at).toBeGreaterThanOrEqual(
            DEFAULT_LOG_LIMIT.summaryEveryMs,
          );
        }
        for (const s of summaries) expect(s.nodes).toBeLessThanOrEqual(DEFAULT_LOG_LIMIT.topNodes);
      }),
    );
  });

  it('a node logging an error on every message for an hour: 30 at once, then 6 a minute, and who was dropped', () => {
    let s = initialLogLimit(0);
    let admitted = 0;
    const summaries = [];
    for (let t = 0; t < 3_600_000; t += 10) {
      const r = admitLog(s, 'error', { id: 'f1', type: 'function', name: 'thrower' }, t);
      s = r.state;
      if (r.admit) admitted++;
      const sum = takeSummary(s, t);
      s = sum.state;
      if (sum.summary) summaries.push(sum.summary);
    }
    expect(admitted).toBeGreaterThanOrEqual(30 + 6 * 59);
    expect(admitted).toBeLessThanOrEqual(30 + 6 * 60);
    expect(summaries).toHaveLength(59);
    expect(summaries[0]?.nodes).toEqual([
      { id: 'f1', type: 'function', name: 'thrower', count: expect.any(Number) },
    ]);
  });
});
