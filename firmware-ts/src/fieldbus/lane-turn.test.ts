import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextTurn, type TurnCandidate } from './lane-turn.ts';

const candidateArb: fc.Arbitrary<TurnCandidate> = fc.record({
  readyAtMs: fc.integer({ min: 0, max: 1000 }),
  dueAtMs: fc.integer({ min: 0, max: 1000 }),
});

describe('nextTurn', () => {
  it('serves a device that is ready while another one rests after its last reply', () => {
    // Device 0 has a poll in progress but needs 20 ms after its reply; device 1 is due now.
    const turn = nextTurn(
      [
        { readyAtMs: 120, dueAtMs: 0 },
        { readyAtMs: 50, dueAtMs: 50 },
      ],
      104,
    );
    expect(turn).toEqual({ index: 1, startAtMs: 104 });
  });

  it('finishes the oldest poll first when several can start at once', () => {
    const turn = nextTurn(
      [
        { readyAtMs: 10, dueAtMs: 10 },
        { readyAtMs: 90, dueAtMs: 0 },
      ],
      104,
    );
    expect(turn).toEqual({ index: 1, startAtMs: 104 });
  });

  it('nothing to choose from is no turn', () => {
    expect(nextTurn([], 0)).toBeUndefined();
  });

  it('property: never before the line is free or the device is ready, and no one could start earlier', () => {
    fc.assert(
      fc.property(
        fc.array(candidateArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        (cands, lineFree) => {
          const turn = nextTurn(cands, lineFree)!;
          const chosen = cands[turn.index]!;
          expect(turn.startAtMs).toBeGreaterThanOrEqual(lineFree);
          expect(turn.startAtMs).toBeGreaterThanOrEqual(chosen.readyAtMs);
          expect(turn.startAtMs).toBe(Math.max(lineFree, chosen.readyAtMs));
          for (const [i, c] of cands.entries()) {
            const start = Math.max(lineFree, c.readyAtMs);
            expect(start).toBeGreaterThanOrEqual(turn.startAtMs);
            if (start === turn.startAtMs) {
              expect(c.dueAtMs).toBeGreaterThanOrEqual(chosen.dueAtMs);
              if (c.dueAtMs === chosen.dueAtMs) expect(i).toBeGreaterThanOrEqual(turn.index);
            }
          }
        },
      ),
    );
  });
});
