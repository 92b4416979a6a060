import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FetchFailureReason,
  initialState,
  type RefusalReason,
  step,
  type UpdateCommand,
  type UpdateInput,
  type UpdateState,
} from './machine.ts';

// A small world the machine acts on: the `current` link, the switch record, the guard. Commands are
// carried out here the way the shell does it, with failures, power cuts and the guard chosen by
// fast-check, and the machine is fed what happened.
interface World {
  current: string;
  switchPending: boolean;
  verdict: string | undefined;
  nowMs: number;
}

type Fate =
  | { kind: 'fetched' }
  | { kind: 'refused'; reason: RefusalReason }
  | { kind: 'fetch-failed'; reason: FetchFailureReason }
  | { kind: 'trial'; pass: boolean }
  | { kind: 'guard' }
  | { kind: 'power-cut' }
  | { kind: 'cut-before-rename' }
  | { kind: 'desired'; version: string };

const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'];
const fateArb: fc.Arbitrary<Fate> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Fate>({ kind: 'fetched' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<RefusalReason>(
        'bad-signature',
        'wrong-platform',
        'tampered-file',
        'disk-full',
        'unknown-key',
      )
      .map((reason): Fate => ({ kind: 'refused', reason })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<FetchFailureReason>('server-unreachable', 'truncated', 'timeout')
      .map((reason): Fate => ({ kind: 'fetch-failed', reason })),
  },
  { weight: 3, arbitrary: fc.boolean().map((pass): Fate => ({ kind: 'trial', pass })) },
  { weight: 1, arbitrary: fc.constant<Fate>({ kind: 'guard' }) },
  { weight: 1, arbitrary: fc.constant<Fate>({ kind: 'power-cut' }) },
  { weight: 1, arbitrary: fc.constant<Fate>({ kind: 'cut-before-rename' }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...VERSIONS).map((version): Fate => ({ kind: 'desired', version })),
  },
);

interface Trace {
  inputs: UpdateInput[];
  commands: UpdateCommand[];
  states: UpdateState[];
}

/** Runs the machine against the world with `fates` deciding each uncertain turn, then lets it settle. */
function simulate(fates: Fate[]): { world: World; state: UpdateState; trace: Trace } {
  const world: World = { current: '1.0.0', switchPending: false, verdict: undefined, nowMs: 0 };
  let state = initialState('1.0.0');
  const trace: Trace = { inputs: [], commands: [], states: [state] };
  const pending: UpdateCommand[] = [];
  const feed = (input: UpdateInput) => {
    trace.inputs.push(input);
    const r = step(state, input);
    state = r.state;
    trace.states.push(state);
    trace.commands.push(...r.commands);
    pending.push(...r.commands.filter((c) => c.do !== 'report'));
  };
  const boot = () =>
    feed({
      type: 'boot',
      current: world.current,
      switchPending: world.switchPending,
      verdict: world.verdict,
      nowMs: world.nowMs,
    });
  let i = 0;
  const nextFate = (): Fate | undefined => fates[i++];
  feed({ type: 'desired', version: '1.1.0', nowMs: 0 });
  for (let guard = 0; guard < 500; guard++) {
    const cmd = pending.shift();
    world.nowMs += 1000;
    const fate = nextFate();
    if (fate?.kind === 'desired') feed({ type: 'desired', version: fate.version, nowMs: world.nowMs });
    if (fate?.kind === 'power-cut') {
      pending.length = 0;
      boot();
      continue;
    }
    if (cmd === undefined) {
      if (state.phase === 'idle') break;
      boot();
      continue;
    }
    // Once the fates run out, everything goes well: the machine must then settle.
    const f = fate ?? { kind: 'fetched' };
    switch (cmd.do) {
      case 'fetch':
        if (f.kind === 'refused')
          feed({ type: 'refused', version: cmd.version, reason: f.reason, detail: 'x', nowMs: world.nowMs });
        else if (f.kind === 'fetch-failed')
          feed({
            type: 'fetch-failed',
            version: cmd.version,
            reason: f.reason,
            detail: 'x',
            nowMs: world.nowMs,
          });
        else feed({ type: 'fetched', version: cmd.version, nowMs: world.nowMs });
        break;
      case 'wake':
        world.nowMs = Math.max(world.nowMs, cmd.atMs);
        feed({ type: 'tick', nowMs: world.nowMs });
        break;
      case 'switch':
        world.switchPending = true;
        world.verdict = undefined;
        // Power may go between writing the switch record and renaming the link.
        if (f.kind !== 'cut-before-rename') world.current = cmd.to;
        // The old process is replaced by the new one.
        pending.length = 0;
        boot();
        break;
      case 'start-trial':
        if (f.kind === 'guard') {
          world.current = state.previous ?? world.current;
          world.verdict = 'guard: trial not committed in time';
          pending.length = 0;
          boot();
        } else if (f.kind === 'trial' && !f.pass) {
          feed({
            type: 'trial-failed',
            version: cmd.version,
            failedChecks: ['readings'],
            detail: 'no readings',
            nowMs: world.nowMs,
          });
        } else {
          feed({ type: 'trial-passed', version: cmd.version, nowMs: world.nowMs });
        }
        break;
      case 'commit':
      case 'clear-switch':
        world.switchPending = false;
        break;
      case 'switch-back':
        world.current = cmd.to;
        world.switchPending = false;
        pending.length = 0;
        boot();
        break;
    }
  }
  return { world, state, trace };
}

const commandsAfter = (t: Trace) => t.commands.filter((c) => c.do !== 'report');

/** Steps the machine through a trace's inputs again, showing each step's before, input and result. */
function replay(
  t: Trace,
  each: (before: UpdateState, input: UpdateInput, r: ReturnType<typeof step>) => void,
): void {
  let state = initialState('1.0.0');
  for (const input of t.inputs) {
    const r = step(state, input);
    each(state, input, r);
    state = r.state;
  }
}

describe('update machine', () => {
  it('settles idle with `running` = where `current` points, whatever failed, was cut or queued', () => {
    fc.assert(
      fc.property(fc.array(fateArb, { maxLength: 60 }), (fates) => {
        const { world, state } = simulate(fates);
        expect(state.phase).toBe('idle');
        expect(state.running).toBe(world.current);
        // No switch record is left behind for the guard to act on.
        expect(world.switchPending).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('switches to a version only after it was fetched and verified, since the last fetch of it', () => {
    fc.assert(
      fc.property(fc.array(fateArb, { maxLength: 60 }), (fates) => {
        const verified = new Set<string>();
        replay(simulate(fates).trace, (_before, input, r) => {
          if (input.type === 'fetched') verified.add(input.version);
          for (const c of r.commands) {
            if (c.do === 'fetch') verified.delete(c.version);
            if (c.do === 'switch') expect(verified.has(c.to)).toBe(true);
          }
        });
      }),
      { numRuns: 400 },
    );
  });

  it('a refusal or a failed fetch never touches what runs', () => {
    fc.assert(
      fc.property(fc.array(fateArb, { maxLength: 60 }), (fates) => {
        replay(simulate(fates).trace, (state, input, r) => {
          if (input.type === 'refused' || input.type === 'fetch-failed') {
            expect(
              r.commands.filter((c) => ['switch', 'switch-back', 'commit', 'start-trial'].includes(c.do)),
            ).toEqual([]);
            expect(r.state.running).toBe(state.running);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('`running` becomes a new version only when it passed its trial; a failed trial goes back to `previous`', () => {
    fc.assert(
      fc.property(fc.array(fateArb, { maxLength: 60 }), (fates) => {
        replay(simulate(fates).trace, (state, input, r) => {
          if (r.state.running !== state.running && r.state.running !== null) {
            const passed = input.type === 'trial-passed' && input.version === r.state.running;
            const committedBeforeState =
              input.type === 'boot' && !input.switchPending && input.current === state.target;
            const wentBack =
              input.type === 'boot' &&
              input.current === r.state.running &&
              r.state.running === state.previous;
            expect(passed || committedBeforeState || wentBack).toBe(true);
          }
          for (const c of r.commands) if (c.do === 'switch-back') expect(c.to).toBe(state.previous);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('each switch ends in exactly one outcome report', () => {
    fc.assert(
      fc.property(fc.array(fateArb, { maxLength: 60 }), (fates) => {
        const { trace } = simulate(fates);
        const switches = commandsAfter(trace).filter((c) => c.do === 'switch').length;
        const outcomes = trace.commands.filter(
          (c) => c.do === 'report' && ['release.committed', 'release.rolled-back'].includes(c.event.type),
        ).length;
        expect(outcomes).toBe(switches);
      }),
      { numRuns: 300 },
    );
  });

  it('retries a failed fetch with growing waits, then reports it failed and leaves the running version', () => {
    let s = initialState('1.0.0');
    const waits: number[] = [];
    let r = step(s, { type: 'desired', version: '1.1.0', nowMs: 0 });
    s = r.state;
    let now = 0;
    for (let attempt = 0; attempt < 10 && s.phase === 'fetching'; attempt++) {
      r = step(s, {
        type: 'fetch-failed',
        version: '1.1.0',
        reason: 'server-unreachable',
        detail: 'ECONNREFUSED',
        nowMs: now,
      });
      s = r.state;
      const wake = r.commands.find((c) => c.do === 'wake');
      if (wake?.do === 'wake') {
        waits.push(wake.atMs - now);
        now = wake.atMs;
        s = step(s, { type: 'tick', nowMs: now }).state;
      }
    }
    expect(waits).toEqual([2000, 4000, 8000, 16000, 32000]);
    expect(s).toMatchObject({
      phase: 'idle',
      running: '1.0.0',
      last: { result: 'failed', version: '1.1.0' },
    });
    expect(r.commands.map((c) => (c.do === 'report' ? c.event.type : c.do))).toEqual(['release.failed']);
  });

  it('a refused version is not fetched again until another one is desired', () => {
    let s = step(initialState('1.0.0'), { type: 'desired', version: '1.1.0', nowMs: 0 }).state;
    s = step(s, { type: 'refused', version: '1.1.0', reason: 'bad-signature', detail: 'x', nowMs: 1 }).state;
    expect(step(s, { type: 'desired', version: '1.1.0', nowMs: 2 }).commands).toEqual([]);
    const other = step(s, { type: 'desired', version: '1.2.0', nowMs: 3 });
    expect(other.commands.some((c) => c.do === 'fetch' && c.version === '1.2.0')).toBe(true);
  });

  it('a desired version that arrives during a trial waits for its outcome', () => {
    let s = step(initialState('1.0.0'), { type: 'desired', version: '1.1.0', nowMs: 0 }).state;
    s = step(s, { type: 'fetched', version: '1.1.0', nowMs: 1 }).state;
    s = step(s, { type: 'boot', current: '1.1.0', switchPending: true, verdict: undefined, nowMs: 2 }).state;
    const during = step(s, { type: 'desired', version: '1.2.0', nowMs: 3 });
    expect(during.commands).toEqual([]);
    const passed = step(during.state, { type: 'trial-passed', version: '1.1.0', nowMs: 4 });
    expect(passed.state.running).toBe('1.1.0');
    expect(passed.commands.map((c) => c.do)).toEqual(['commit', 'report', 'report', 'fetch']);
  });
});
