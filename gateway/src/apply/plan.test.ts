import type { ConfigRef } from '@brana/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApplyAction,
  type ApplyInput,
  type ApplyMachine,
  initialMachine,
  plan,
  sameRef,
  step,
} from './plan.ts';

const ref = (version: number): ConfigRef => ({ version, hash: version.toString(16).padStart(64, '0') });

/** Drives the machine, answering every action with `answer(action)`, until it is idle. */
function drive(m: ApplyMachine, first: ApplyAction | null, answer: (a: ApplyAction) => ApplyInput) {
  const ran: ApplyAction[] = [];
  let run = first;
  let machine = m;
  while (run) {
    ran.push(run);
    const r = step(machine, answer(run));
    machine = r.machine;
    run = r.run;
  }
  return { machine, ran };
}

describe('plan', () => {
  it('is empty when the desired config already runs or nothing is desired', () => {
    expect(plan({ running: ref(1), refused: null }, ref(1))).toEqual([]);
    expect(plan({ running: ref(1), refused: null }, null)).toEqual([]);
  });

  it('verifies, validates, stages, restarts, trials, commits, reporting each phase', () => {
    expect(
      plan({ running: ref(1), refused: null }, ref(2)).map((a) =>
        a.do === 'report' ? `report:${a.state}` : a.do,
      ),
    ).toEqual([
      'verify',
      'validate',
      'stage',
      'report:staged',
      'restart',
      'report:trial',
      'trial',
      'commit',
      'report:applied',
    ]);
  });

  it('does not retry a refused config, but says so', () => {
    expect(plan({ running: ref(1), refused: ref(2) }, ref(2))).toEqual([
      { do: 'report', target: ref(2), state: 'failed', detail: 'refused before; not applied again' },
    ]);
  });
});

describe('step', () => {
  it('a good config commits', () => {
    const s = step(initialMachine(ref(1)), { type: 'desired', ref: ref(2) });
    const { machine, ran } = drive(s.machine, s.run, () => ({ type: 'done' }));
    expect(machine.state).toBe('committed');
    expect(machine.current.running).toEqual(ref(2));
    expect(ran.at(-1)).toMatchObject({ do: 'report', state: 'applied' });
  });

  it('a failed trial rolls back to the last known good', () => {
    const s = step(initialMachine(ref(1)), { type: 'desired', ref: ref(2) });
    const { machine, ran } = drive(s.machine, s.run, (a) =>
      a.do === 'trial' ? { type: 'failed', detail: 'fieldbus: meter-1 offline' } : { type: 'done' },
    );
    expect(machine.state).toBe('rolledBack');
    expect(machine.current).toEqual({ running: ref(1), refused: ref(2) });
    expect(ran.slice(-2)).toEqual([
      { do: 'rollback', target: ref(2), to: ref(1) },
      { do: 'report', target: ref(2), state: 'rolledBack', errors: [], detail: 'fieldbus: meter-1 offline' },
    ]);
  });

  it('a bad signature is refused without touching the firmware', () => {
    const s = step(initialMachine(ref(1)), { type: 'desired', ref: ref(2) });
    const errors = [{ path: 'signature', message: 'does not verify' }];
    const { machine, ran } = drive(s.machine, s.run, (a) =>
      a.do === 'verify' ? { type: 'failed', errors } : { type: 'done' },
    );
    expect(ran.map((a) => a.do)).toEqual(['verify', 'report']);
    expect(ran[1]).toMatchObject({ state: 'failed', errors });
    expect(machine.current.running).toEqual(ref(1));
    expect(machine.state).toBe('committed');
  });

  it('keeps only the newest of several desired configs that arrive while busy', () => {
    let r = step(initialMachine(null), { type: 'desired', ref: ref(2) });
    r = step(r.machine, { type: 'desired', ref: ref(3) });
    r = step(r.machine, { type: 'desired', ref: ref(4) });
    expect(r.machine.queued).toEqual(ref(4));
    expect(r.run).toBeNull();
  });

  const input = fc.oneof(
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 4 }).map((v): ApplyInput => ({ type: 'desired', ref: ref(v) })),
    },
    { weight: 5, arbitrary: fc.constant<ApplyInput>({ type: 'done' }) },
    { weight: 2, arbitrary: fc.constant<ApplyInput>({ type: 'failed', detail: 'x' }) },
  );

  it('property: firmware never keeps running an uncommitted config; one apply at a time; at most one queued', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 120 }), (inputs) => {
        let m = initialMachine(ref(1));
        let firmware: ConfigRef | null = ref(1);
        let running: ApplyAction | null = null;
        let trialPassed: ConfigRef | null = null;
        // After a rollback that failed, the firmware runs what it ran, or nothing once stopped.
        let unknown = false;
        for (const inp of inputs) {
          // Answers only make sense while an action runs; desired may come any time.
          if (inp.type !== 'desired' && running === null) continue;
          if (inp.type !== 'desired' && running) {
            if (inp.type === 'done') {
              if (running.do === 'restart') firmware = running.target;
              if (running.do === 'rollback') firmware = running.to;
              if (running.do === 'trial') trialPassed = running.target;
              if (running.do === 'restart' || (running.do === 'rollback' && running.to !== null))
                unknown = false;
            } else if (running.do === 'rollback') {
              unknown = true;
              firmware = null;
              // A failed rollback to the last good config is followed by a stop (outputs off).
              if (running.to !== null) {
                const next = step(m, inp).run;
                expect(next).toEqual({ do: 'rollback', target: running.target, to: null });
              }
            }
          }
          const before = m;
          const r = step(m, inp);
          m = r.machine;
          if (inp.type === 'desired' && running !== null) {
            expect(r.run).toBeNull();
          } else if (inp.type !== 'desired' || running === null) {
            running = r.run;
          }
          // running changes only by committing a target whose trial passed in this apply.
          if (!sameRef(before.current.running, m.current.running)) {
            expect(m.current.running).toEqual(trialPassed);
          }
          if (m.active) expect(sameRef(m.queued, m.active.target)).toBe(false);
          // After a failed restart/trial/commit, the very next action restores the last good config.
          if (inp.type === 'failed' && before.active && !before.active.failing) {
            const head = before.active.pending[0]!;
            if (head.do === 'restart' || head.do === 'trial' || head.do === 'commit') {
              expect(r.run).toEqual({ do: 'rollback', target: head.target, to: before.current.running });
            }
            if (head.do === 'verify' || head.do === 'validate' || head.do === 'stage') {
              expect(r.run).toMatchObject({ do: 'report', state: 'failed' });
            }
          }
          // Idle means the firmware runs the committed config (or, after a failed rollback, was stopped).
          if (m.active === null)
            expect(unknown ? [null, m.current.running] : [m.current.running]).toContainEqual(firmware);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: every apply that is driven to its end reports exactly one outcome', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        (v, outcomes) => {
          const s = step(initialMachine(ref(1)), { type: 'desired', ref: ref(v) });
          let i = 0;
          const { ran } = drive(s.machine, s.run, () =>
            outcomes[i++] === false ? { type: 'failed' } : { type: 'done' },
          );
          const finals = ran.filter((a) => a.do === 'report' && a.state !== 'staged' && a.state !== 'trial');
          expect(finals).toHaveLength(1);
        },
      ),
    );
  });
});
