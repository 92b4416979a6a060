import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignStages,
  isFinished,
  plan,
  type RolloutInput,
  type RolloutPlanState,
  startRollout,
} from './plan.ts';

const reportState = fc.constantFrom('delivered', 'applied', 'failed', 'rolledBack') as fc.Arbitrary<
  'delivered' | 'applied' | 'failed' | 'rolledBack'
>;

const scenario = fc
  .record({
    n: fc.integer({ min: 0, max: 30 }),
    percents: fc
      .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 3 })
      .map((a) => [...a.sort((x, y) => x - y), 100]),
    maxFailureShare: fc.constantFrom(0, 0.1, 0.25, 0.5, 1),
  })
  .chain((base) =>
    fc.record({
      base: fc.constant(base),
      batches: fc.array(
        fc.array(
          fc.oneof(
            {
              weight: 8,
              arbitrary: fc.record({
                kind: fc.constant('report' as const),
                idx: fc.integer({ min: 0, max: 40 }),
                state: reportState,
              }),
            },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                { kind: 'pause' as const },
                { kind: 'resume' as const },
                { kind: 'abort' as const },
              ),
            },
          ),
          { maxLength: 6 },
        ),
        { maxLength: 40 },
      ),
    }),
  );

function toInput(
  x:
    | { kind: 'report'; idx: number; state: 'delivered' | 'applied' | 'failed' | 'rolledBack' }
    | { kind: 'pause' | 'resume' | 'abort' },
): RolloutInput {
  return x.kind === 'report'
    ? { kind: 'report', gatewayId: `gw_${x.idx}`, state: x.state }
    : { kind: x.kind };
}

describe('assignStages', () => {
  it('puts every target in exactly one stage, in order, with a non-empty canary', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 99 }), (n, canary) => {
        const ids = Array.from({ length: n }, (_, i) => `gw_${i}`);
        const t = assignStages(ids, [canary, 100]);
        expect(t.map((x) => x.gatewayId)).toStrictEqual(ids);
        const stages = t.map((x) => x.stage);
        expect([...stages].sort((a, b) => a - b)).toStrictEqual(stages);
        const c = stages.filter((s) => s === 0).length;
        if (n > 0) expect(c).toBeGreaterThanOrEqual(1);
        expect(c).toBe(n === 0 ? 0 : Math.max(1, Math.ceil((n * canary) / 100)));
      }),
    );
  });
});

describe('plan', () => {
  it('keeps the stage invariants under any sequence of reports and commands', () => {
    fc.assert(
      fc.property(scenario, ({ base, batches }) => {
        const ids = Array.from({ length: base.n }, (_, i) => `gw_${i}`);
        let { state, actions } = startRollout(
          assignStages(ids, base.percents),
          base.percents.length,
          base.maxFailureShare,
        );
        const assigned = new Set<string>();
        const check = (prev: RolloutPlanState | null, st: RolloutPlanState, acts: typeof actions) => {
          for (const a of acts) {
            if (a.type !== 'assign') continue;
            // A terminal rollout never assigns; a paused one never does either.
            expect(prev === null || prev.state === 'running' || prev.state === 'paused').toBe(true);
            expect(st.state === 'running' || st.state === 'completed').toBe(true);
            for (const id of a.gatewayIds) {
              expect(assigned.has(id)).toBe(false); // each gateway assigned once
              assigned.add(id);
              const t = st.targets.find((x) => x.gatewayId === id)!;
              expect(t.stage).toBe(a.stage);
              // every earlier stage is finished when a later one opens
              for (const other of st.targets)
                if (other.stage < a.stage) expect(isFinished(other.state)).toBe(true);
            }
          }
          if (prev && (prev.state === 'aborted' || prev.state === 'stopped' || prev.state === 'completed')) {
            expect(st.state).toBe(prev.state);
          }
          // targets beyond the open stage are untouched
          for (const t of st.targets) if (t.stage > st.currentStage) expect(t.state).toBe('pending');
          // a running or completed rollout never has a stage over its failure limit
          if (st.state === 'running' || st.state === 'completed') {
            for (let k = 0; k <= Math.min(st.currentStage, st.stageCount - 1); k++) {
              const m = st.targets.filter((t) => t.stage === k);
              const f = m.filter((t) => t.state === 'failed' || t.state === 'rolledBack').length;
              if (m.length > 0) expect(f / m.length).toBeLessThanOrEqual(st.maxFailureShare);
            }
          }
          if (st.state === 'completed') for (const t of st.targets) expect(isFinished(t.state)).toBe(true);
        };
        check(null, state, actions);
        for (const batch of batches) {
          const prev = state;
          ({ state, actions } = plan(state, batch.map(toInput)));
          check(prev, state, actions);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reaches completion when every gateway applies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 99 }), (n, canary) => {
        const ids = Array.from({ length: n }, (_, i) => `gw_${i}`);
        let { state } = startRollout(assignStages(ids, [canary, 100]), 2, 0.1);
        for (let round = 0; round < 3 && state.state === 'running'; round++) {
          const open = state.targets.filter((t) => t.stage === state.currentStage);
          ({ state } = plan(
            state,
            open.map((t) => ({ kind: 'report', gatewayId: t.gatewayId, state: 'applied' })),
          ));
        }
        expect(state.state).toBe('completed');
      }),
    );
  });

  it('stops in the canary when more than the set share fails, and never opens stage 2', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `gw_${i}`);
    let r = startRollout(assignStages(ids, [20, 100]), 2, 0.25);
    expect(r.actions).toStrictEqual([
      { type: 'assign', stage: 0, gatewayIds: ['gw_0', 'gw_1', 'gw_2', 'gw_3'] },
    ]);
    r = plan(r.state, [{ kind: 'report', gatewayId: 'gw_0', state: 'failed' }]);
    expect(r.state.state).toBe('running'); // 1/4 = 25 % is not more than 25 %
    r = plan(r.state, [
      { kind: 'report', gatewayId: 'gw_1', state: 'rolledBack' },
      { kind: 'report', gatewayId: 'gw_2', state: 'applied' },
      { kind: 'report', gatewayId: 'gw_3', state: 'applied' },
    ]);
    expect(r.state.state).toBe('stopped');
    expect(r.state.stopReason).toBe('2 of 4 gateways in stage 1 failed to apply (limit 25 %)');
    expect(r.actions.some((a) => a.type === 'assign')).toBe(false);
    r = plan(r.state, [{ kind: 'resume' }]);
    expect(r.state.state).toBe('stopped');
  });

  it('holds while paused and continues on resume', () => {
    const ids = ['gw_a', 'gw_b'];
    let r = startRollout(assignStages(ids, [50, 100]), 2, 0);
    r = plan(r.state, [{ kind: 'pause' }, { kind: 'report', gatewayId: 'gw_a', state: 'applied' }]);
    expect(r.actions.filter((a) => a.type === 'assign')).toStrictEqual([]);
    r = plan(r.state, [{ kind: 'resume' }]);
    expect(r.actions).toContainEqual({ type: 'assign', stage: 1, gatewayIds: ['gw_b'] });
  });
});
