import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testPreemptionConfig } from '../../test/support/rt-fixtures.ts';
import {
  type ArbiterConfig,
  type ArbiterEvent,
  type ArbiterInput,
  type ArbiterState,
  arbiterConfigFrom,
  createStepOutput,
  initialArbiterState,
  NO_VEHICLE,
  outputLevels,
  type Priority,
  type StepOutput,
  step,
  stepCommands,
  stepEvents,
} from './arbiter.ts';

// North(0)/south(2) conflict with east(1)/west(3), as at a plain four-way crossing.
const CONFIG: ArbiterConfig = {
  ...arbiterConfigFrom(testPreemptionConfig({ timing: { minGapS: 5 } })),
};

/**
 * Steps like the rt loop does: two reusable outputs, the one just written holds the current state.
 * Vehicles are numbers in the arbiter; the scenarios name them, and events name them back.
 */
class Driver {
  state: ArbiterState;
  log: NamedEvent[] = [];
  private outs: [StepOutput, StepOutput];
  private next = 0;
  private readonly names: string[] = [];
  constructor(
    readonly config: ArbiterConfig = CONFIG,
    public now = 0,
  ) {
    this.state = initialArbiterState(config, now);
    this.outs = [createStepOutput(config), createStepOutput(config)];
  }
  vehicle(name: string): number {
    const i = this.names.indexOf(name);
    return i >= 0 ? i : this.names.push(name) - 1;
  }
  feed(input: ArbiterInput, dtMs = 0): NamedEvent[] {
    this.now += dtMs;
    const out = this.outs[this.next]!;
    this.next ^= 1;
    step(this.state, input, this.now, this.config, out);
    this.state = out.state;
    const ev = stepEvents(out).map((e) =>
      'vehicle' in e ? { ...e, vehicle: this.names[e.vehicle] ?? String(e.vehicle) } : e,
    );
    this.log.push(...ev);
    return ev;
  }
  ready() {
    return this.feed({ kind: 'selfTest', ok: true });
  }
  req(approach: number, vehicle: string, priority: Priority = 2, etaMs = 10_000, dtMs = 0) {
    return this.feed(
      { kind: 'request', type: 'update', approach, vehicle: this.vehicle(vehicle), priority, etaMs },
      dtMs,
    );
  }
  cancel(approach: number, vehicle: string, dtMs = 0) {
    return this.feed(
      { kind: 'request', type: 'cancel', approach, vehicle: this.vehicle(vehicle), priority: 2, etaMs: 0 },
      dtMs,
    );
  }
  tick(dtMs: number) {
    return this.feed({ kind: 'tick' }, dtMs);
  }
  phases() {
    return this.state.approaches.map((a) => a.phase);
  }
}

/** An event with the vehicle's scenario name in place of its number. */
type NamedEvent = { readonly type: ArbiterEvent['type'] } & Readonly<Record<string, unknown>>;

describe('arbiter scenarios', () => {
  it('keeps outputs off until the self-test passes', () => {
    const d = new Driver();
    expect(d.req(0, 'amb')[0]).toMatchObject({ type: 'ignored', reason: 'notRunning' });
    expect(outputLevels(d.state)).toEqual([0, 0, 0, 0]);
    d.ready();
    d.req(0, 'amb');
    expect(outputLevels(d.state)).toEqual([1, 0, 0, 0]);
  });

  it('a failed self-test latches the fault', () => {
    const d = new Driver();
    d.feed({ kind: 'selfTest', ok: false, detail: 'readback rb-north stuck at 1' });
    d.ready();
    d.req(0, 'amb');
    expect(d.state.mode).toBe('fault');
    expect(outputLevels(d.state)).toEqual([0, 0, 0, 0]);
  });

  it('arms a far request and asserts once the ETA is inside the window', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'amb', 2, 60_000);
    expect(d.phases()[0]).toBe('armed');
    d.req(0, 'amb', 2, 29_000, 1000);
    expect(d.phases()[0]).toBe('asserted');
  });

  it('releases on cancel, then locks the approach out for the minimum gap', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'amb');
    expect(d.cancel(0, 'amb', 1000)).toContainEqual({
      type: 'released',
      approach: 0,
      vehicle: 'amb',
      reason: 'cancel',
    });
    d.tick(300);
    expect(d.phases()[0]).toBe('lockout');
    expect(d.req(0, 'amb2', 2, 0, 1000)[0]).toMatchObject({ type: 'ignored', reason: 'gap' });
    d.tick(4000);
    d.req(0, 'amb2');
    expect(d.phases()[0]).toBe('asserted');
  });

  it('releases when fresh updates stop (lost cancel)', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'amb');
    d.tick(2900);
    expect(d.phases()[0]).toBe('asserted');
    expect(d.tick(200)).toContainEqual({ type: 'released', approach: 0, vehicle: 'amb', reason: 'timeout' });
  });

  it('faults an approach held beyond holdMax', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'amb');
    for (let t = 0; t < 121; t++) d.req(0, 'amb', 2, 0, 1000);
    expect(d.phases()[0]).toBe('fault');
    expect(d.log).toContainEqual({ type: 'released', approach: 0, vehicle: 'amb', reason: 'holdMax' });
    expect(d.req(0, 'amb', 2, 0, 10)[0]).toMatchObject({ type: 'ignored', reason: 'outOfService' });
  });

  it('serves conflicting approaches first come, first served', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'a');
    d.req(1, 'b', 2, 10_000, 10);
    expect(d.phases().slice(0, 2)).toEqual(['asserted', 'armed']);
    d.cancel(0, 'a', 100);
    d.req(1, 'b', 2, 10_000, 100);
    expect(d.phases()[1]).toBe('armed'); // north still releasing
    d.req(1, 'b', 2, 10_000, 250);
    expect(d.phases().slice(0, 2)).toEqual(['lockout', 'asserted']);
  });

  it('emergency beats transit: the transit assertion is released for it', () => {
    const d = new Driver();
    d.ready();
    d.req(1, 'bus', 1);
    d.req(0, 'amb', 2, 10_000, 10);
    expect(d.log).toContainEqual({ type: 'released', approach: 1, vehicle: 'bus', reason: 'preempted' });
    d.req(0, 'amb', 2, 10_000, 300);
    expect(d.phases().slice(0, 2)).toEqual(['asserted', 'lockout']);
  });

  it('a system fault turns everything off and stays', () => {
    const d = new Driver();
    d.ready();
    d.req(0, 'amb');
    d.feed({ kind: 'fault', reason: 'readback rb-north stuck' }, 5);
    expect(outputLevels(d.state)).toEqual([0, 0, 0, 0]);
    d.req(2, 'amb2', 2, 0, 1000);
    expect(outputLevels(d.state)).toEqual([0, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: long random sequences of requests, updates, cancels, lost messages (gaps),
// clock jumps (back and forward) and faults. An independent checker replays the output commands
// and events and verifies every safety rule after every step.

const VEHICLES = ['a1', 'a2', 'a3', 'b1', 'b2'] as const;
const PRIORITY: Record<string, Priority> = { a1: 2, a2: 2, a3: 2, b1: 1, b2: 1 };

type Op =
  | { op: 'req'; type: 'request' | 'update' | 'cancel'; approach: number; vehicle: string; etaMs: number }
  | { op: 'tick' }
  | { op: 'fault'; approach?: number }
  | { op: 'selfTest'; ok: boolean };

const opArb: fc.Arbitrary<{ dt: number; op: Op }> = fc.record({
  dt: fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0, max: 600 }) },
    { weight: 2, arbitrary: fc.integer({ min: 600, max: 6000 }) },
    { weight: 1, arbitrary: fc.integer({ min: -50_000, max: -1 }) }, // clock jumps back
    { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 200_000 }) }, // and far forward
  ),
  op: fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        op: fc.constant('req' as const),
        type: fc.constantFrom('request' as const, 'update' as const, 'update' as const, 'cancel' as const),
        approach: fc.integer({ min: 0, max: 4 }), // 4 = unknown approach
        vehicle: fc.constantFrom(...VEHICLES),
        etaMs: fc.integer({ min: 0, max: 60_000 }),
      }),
    },
    { weight: 6, arbitrary: fc.constant<Op>({ op: 'tick' }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('fault' as const),
        approach: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('selfTest' as const), ok: fc.boolean() }) },
  ),
});

function toInput(op: Op): ArbiterInput {
  switch (op.op) {
    case 'req':
      return {
        kind: 'request',
        type: op.type,
        approach: op.approach,
        vehicle: VEHICLES.indexOf(op.vehicle as (typeof VEHICLES)[number]),
        priority: PRIORITY[op.vehicle]!,
        etaMs: op.etaMs,
      };
    case 'tick':
      return { kind: 'tick' };
    case 'fault':
      return op.approach === undefined
        ? { kind: 'fault', reason: 'test' }
        : { kind: 'fault', approach: op.approach, reason: 'test' };
    case 'selfTest':
      return { kind: 'selfTest', ok: op.ok };
  }
}

function checkRun(config: ArbiterConfig, ops: { dt: number; op: Op }[], startSelfTest: boolean): void {
  const n = config.conflicts.length;
  let state = initialArbiterState(config, 0);
  let wall = 0;
  const level: number[] = new Array(n).fill(0);
  const assertedAt: number[] = new Array(n).fill(-1);
  const releasedAt: number[] = new Array(n).fill(Number.NEGATIVE_INFINITY);
  let everSystemFault = false;
  let everRunning = false;
  const all = startSelfTest ? [{ dt: 0, op: { op: 'selfTest', ok: true } as Op }, ...ops] : ops;
  // Stepped as the rt loop does it: two reused outputs, written in turn.
  const outs = [createStepOutput(config), createStepOutput(config)] as const;
  let turn = 0;
  for (const { dt, op } of all) {
    wall += dt;
    const beforeNowMs = state.nowMs;
    const r = outs[turn]!;
    turn ^= 1;
    step(state, toInput(op), wall, config, r);
    state = r.state;
    const assertedNow = new Set<number>();
    const now = state.nowMs;
    expect(now).toBeGreaterThanOrEqual(beforeNowMs);
    for (const c of stepCommands(r)) {
      if (c.kind === 'output') {
        // Commands only change levels; a new assertion respects the gap and the release time of conflicts.
        expect(level[c.approach]).not.toBe(c.level);
        level[c.approach] = c.level;
        if (c.level === 1) {
          expect(now - releasedAt[c.approach]!).toBeGreaterThanOrEqual(config.releaseMs + config.minGapMs);
          for (let j = 0; j < n; j++) {
            if (config.conflicts[c.approach]![j])
              expect(now - releasedAt[j]!).toBeGreaterThanOrEqual(config.releaseMs);
          }
          assertedAt[c.approach] = now;
          assertedNow.add(c.approach);
        } else {
          releasedAt[c.approach] = now;
        }
      }
    }
    if (state.mode === 'running') everRunning = true;
    if (op.op === 'fault' && op.approach === undefined) everSystemFault = true;
    const levels = outputLevels(state);
    // The commands describe the state exactly.
    expect(level).toEqual(levels);
    // Outputs off before self-test, and forever after a system fault or a failed self-test.
    if (!everRunning || everSystemFault || state.mode !== 'running')
      expect(levels.every((l) => l === 0)).toBe(true);
    for (let i = 0; i < n; i++) {
      const a = state.approaches[i]!;
      // Conflicting approaches never asserted together.
      for (let j = 0; j < n; j++) {
        if (config.conflicts[i]![j]) expect(levels[i]! + levels[j]!).toBeLessThanOrEqual(1);
      }
      if (a.phase === 'asserted') {
        // Every assertion ends: within holdMax, and only while updates are fresh.
        expect(now - a.sinceMs).toBeLessThan(config.holdMaxMs);
        expect(now - a.lastUpdateMs).toBeLessThanOrEqual(config.updateTimeoutMs);
        for (let j = 0; j < n; j++) {
          const b = state.approaches[j]!;
          if (!config.conflicts[i]![j] || b.phase !== 'armed') continue;
          if (b.arrivalMs - now > config.etaWindowMs) continue;
          // Emergency beats transit: no transit stays asserted against a waiting emergency.
          expect(b.priority > a.priority).toBe(false);
          // First come, first served among equals, at the moment of assertion.
          if (assertedNow.has(i) && b.priority === a.priority) {
            expect(b.firstMs).toBeGreaterThanOrEqual(a.firstMs);
          }
        }
      }
      // Only armed and asserted approaches hold a request.
      if (a.phase !== 'armed' && a.phase !== 'asserted') expect(a.vehicle).toBe(NO_VEHICLE);
      if (a.phase === 'fault') expect(levels[i]).toBe(0);
    }
  }
}

// Pure CPU work (~3 s each alone, 12 s seen with three test runs and a burner on the 2 cores):
// the runs and steps stay as they are, only the time allowed grows with a shared machine.
const PROPERTY_TIMEOUT_MS = 90_000;

describe('arbiter invariants (property, long random sequences)', () => {
  it(
    'never breaks a safety rule, with a minimum gap',
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 50, maxLength: 400 }), fc.boolean(), (ops, st) =>
          checkRun(CONFIG, ops, st),
        ),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'never breaks a safety rule, with no gap, instant release and short limits',
    () => {
      const config: ArbiterConfig = {
        ...CONFIG,
        minGapMs: 0,
        releaseMs: 0,
        holdMaxMs: 5000,
        etaWindowMs: 15_000,
      };
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 50, maxLength: 400 }), (ops) => checkRun(config, ops, true)),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'never breaks a safety rule on a three-approach T junction where everything conflicts',
    () => {
      const config: ArbiterConfig = {
        ...CONFIG,
        conflicts: [
          [false, true, true],
          [true, false, true],
          [true, true, false],
        ],
      };
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 50, maxLength: 300 }), (ops) => checkRun(config, ops, true)),
        { numRuns: 100 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'every request is eventually served or ends: after silence, nothing stays asserted',
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 10, maxLength: 200 }), (ops) => {
          const outs = [createStepOutput(CONFIG), createStepOutput(CONFIG)] as const;
          let turn = 0;
          let state = initialArbiterState(CONFIG, 0);
          const feed = (input: ArbiterInput, t: number) => {
            const out = outs[turn]!;
            turn ^= 1;
            step(state, input, t, CONFIG, out);
            state = out.state;
          };
          feed({ kind: 'selfTest', ok: true }, 0);
          let t = 0;
          for (const { dt, op } of ops) {
            t += dt;
            feed(toInput(op), t);
          }
          feed({ kind: 'tick' }, state.nowMs + CONFIG.updateTimeoutMs + 1);
          expect(outputLevels(state).every((l) => l === 0)).toBe(true);
        }),
        { numRuns: 100 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('arbiter purity (step writes only into its output)', () => {
  it(
    'leaves its input state untouched and gives the same result into a fresh or a dirty output',
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 20, maxLength: 200 }), (ops) => {
          const outs = [createStepOutput(CONFIG), createStepOutput(CONFIG)] as const;
          // A dirty output: it has just held a different step's state and commands.
          const dirty = createStepOutput(CONFIG);
          let turn = 0;
          let state = initialArbiterState(CONFIG, 0);
          let t = 0;
          for (const { dt, op } of [{ dt: 0, op: { op: 'selfTest', ok: true } as Op }, ...ops]) {
            t += dt;
            const input = toInput(op);
            const before = structuredClone(state);
            const out = outs[turn]!;
            turn ^= 1;
            step(state, input, t, CONFIG, out);
            expect(state).toEqual(before);
            const fresh = createStepOutput(CONFIG);
            step(before, input, t, CONFIG, fresh);
            step(before, input, t, CONFIG, dirty);
            for (const other of [fresh, dirty]) {
              expect(other.state).toEqual(out.state);
              expect(stepCommands(other)).toEqual(stepCommands(out));
            }
            // Dirty it for the next round with an unrelated step.
            step(out.state, { kind: 'fault', reason: 'dirty' }, t + 1, CONFIG, dirty);
            state = out.state;
          }
        }),
        { numRuns: 60 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('refuses to write into the state it reads', () => {
    const out = createStepOutput(CONFIG);
    expect(() => step(out.state, { kind: 'tick' }, 0, CONFIG, out)).toThrow(/different object/);
  });
});
