import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtEventRing, type RtEventType } from './event-ring.ts';

const TYPES: RtEventType[] = [
  'rejected',
  'armed',
  'asserted',
  'released',
  'expired',
  'ignored',
  'ready',
  'fault',
];

describe('RtEventRing', () => {
  it('property: behaves as a bounded FIFO that drops (and counts) new events when full, across wrap-around', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.constantFrom(...TYPES), fc.constant('take' as const)), { maxLength: 200 }),
        (capacity, ops) => {
          const ring = new RtEventRing(capacity);
          const model: { type: RtEventType; atMs: number }[] = [];
          let dropped = 0;
          ops.forEach((op, i) => {
            if (op === 'take') {
              const head = ring.peek();
              expect(head === undefined ? undefined : { type: head.type, atMs: head.atMs }).toEqual(model[0]);
              ring.shift();
              model.shift();
            } else {
              const slot = ring.push(op);
              if (model.length >= capacity) {
                expect(slot).toBeUndefined();
                dropped++;
              } else {
                expect(slot).toBeDefined();
                slot!.atMs = i;
                model.push({ type: op, atMs: i });
              }
            }
            expect(ring.length).toBe(model.length);
            expect(ring.dropped).toBe(dropped);
          });
        },
      ),
    );
  });

  it('keeps the oldest events (a safety event already queued is never overwritten) when full', () => {
    const ring = new RtEventRing(2);
    ring.push('asserted')!.atMs = 1;
    ring.push('released')!.atMs = 2;
    expect(ring.push('rejected')).toBeUndefined();
    expect(ring.peek()).toMatchObject({ type: 'asserted', atMs: 1 });
    ring.shift();
    expect(ring.peek()).toMatchObject({ type: 'released', atMs: 2 });
    expect(ring.dropped).toBe(1);
  });
});
