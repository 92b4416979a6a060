import type { FlowNode } from '@brana/firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeDiff, diffFlows, isEmptyDiff } from './drift.ts';

const signed: FlowNode[] = [
  { id: 't1', type: 'tab', label: 'Kotelna' },
  { id: 'a', type: 'inject', z: 't1', name: 'every minute', repeat: '60', x: 100, y: 40, wires: [['b']] },
  {
    id: 'b',
    type: 'switch',
    z: 't1',
    name: 'too hot?',
    rules: [{ t: 'gt', v: '80' }],
    x: 300,
    y: 40,
    wires: [['c']],
  },
  { id: 'c', type: 'debug', z: 't1', x: 500, y: 40 },
];

describe('diffFlows', () => {
  it('names what an editor deploy added, removed and changed, with tab and changed properties', () => {
    const running: FlowNode[] = [
      signed[0]!,
      { ...signed[1]!, x: 140 },
      { ...signed[2]!, rules: [{ t: 'gt', v: '85' }], x: 320 },
      { id: 'd', type: 'function', z: 't1', name: 'page the caretaker', func: 'return msg;' },
    ];
    const d = diffFlows(signed, running);
    expect(d).toEqual({
      added: [{ id: 'd', type: 'function', name: 'page the caretaker', tab: 'Kotelna' }],
      removed: [{ id: 'c', type: 'debug', name: 'debug', tab: 'Kotelna' }],
      changed: [{ id: 'b', type: 'switch', name: 'too hot?', tab: 'Kotelna', properties: ['rules'] }],
    });
    expect(describeDiff(d)).toBe(
      'added 1 (page the caretaker), removed 1 (debug), changed 1 (too hot?: rules)',
    );
  });

  it('moving nodes and reordering keys or nodes is no change', () => {
    const running = [...signed]
      .reverse()
      .map((n) => Object.fromEntries(Object.entries({ ...n, x: 7 }).reverse()) as FlowNode);
    expect(isEmptyDiff(diffFlows(signed, running))).toBe(true);
  });

  it('property: every node id lands in exactly one bucket, and equal flows give an empty diff', () => {
    const nodeArb = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      type: fc.constantFrom('inject', 'debug', 'function'),
      name: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
      v: fc.integer({ min: 0, max: 2 }),
    });
    const flowsArb = fc.uniqueArray(nodeArb, { selector: (n) => n.id, maxLength: 6 }) as fc.Arbitrary<
      FlowNode[]
    >;
    fc.assert(
      fc.property(flowsArb, flowsArb, (a, b) => {
        const d = diffFlows(a, b);
        expect(isEmptyDiff(diffFlows(a, a))).toBe(true);
        const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
        const aIds = new Set(ids(a));
        const bIds = new Set(ids(b));
        expect(new Set(ids(d.added))).toEqual(new Set([...bIds].filter((i) => !aIds.has(i))));
        expect(new Set(ids(d.removed))).toEqual(new Set([...aIds].filter((i) => !bIds.has(i))));
        for (const c of d.changed) expect(aIds.has(c.id) && bIds.has(c.id)).toBe(true);
        // A diff is symmetric in what it adds and removes.
        const back = diffFlows(b, a);
        expect(new Set(ids(back.added))).toEqual(new Set(ids(d.removed)));
        expect(new Set(ids(back.changed))).toEqual(new Set(ids(d.changed)));
      }),
    );
  });
});
