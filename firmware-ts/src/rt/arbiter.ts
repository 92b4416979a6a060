// The preemption arbiter of one intersection as a pure function:
// step(state, input, nowMs, config, out) writes the next state and the output commands into `out`.
// No I/O, no clock: the rt loop feeds it checked requests, ticks, self-test results and faults,
// and carries out the commands. `state` is only read and `out` is only written, so the result is a
// function of (state, input, nowMs) alone; `out` is caller-owned and reused, so a step allocates
// nothing (the rt loop keeps two outputs and swaps them: the next state becomes the current one).
//
// Safety rules it keeps (DESIGN.md, "Safety of the preemption path"), each checked by a property test:
//  - outputs are off until self-test passes, and after any fault (a system fault latches);
//  - two conflicting approaches are never asserted together, and a conflicting approach is only
//    asserted once the other's release time has passed;
//  - every assertion ends: cancel, no fresh update for updateTimeoutMs, holdMaxMs (then fault);
//  - emergency beats transit (a conflicting transit assertion is released for it);
//  - equal priorities are served first come, first served;
//  - an approach is not served again until minGapMs after its release.

export type ApproachPhase = 'idle' | 'armed' | 'asserted' | 'releasing' | 'lockout' | 'fault' | 'disabled';
export type ArbiterMode = 'selfTest' | 'running' | 'fault';
/** 2 = emergency (ambulance, fire, police), 1 = transit. */
export type Priority = 1 | 2;
export type RequestKind = 'request' | 'update' | 'cancel';

/**
 * Vehicles are numbers so that the hot path builds no strings: the rt loop gives every source a
 * distinct number (a signed frame's key index and vehicle id, an optical input, the test contact).
 */
export const NO_VEHICLE = -1;

/**
 * One approach. `vehicle`, `priority`, `firstMs`, `lastUpdateMs` and `arrivalMs` describe the
 * request holding an `armed` or `asserted` approach; in every other phase they are reset
 * (NO_VEHICLE, 1, 0, 0, 0), so two equal states compare equal field by field.
 */
export interface ApproachState {
  phase: ApproachPhase;
  sinceMs: number;
  vehicle: number;
  priority: Priority;
  /** When this vehicle's request was first seen (first come, first served). */
  firstMs: number;
  lastUpdateMs: number;
  /** Monotonic time the vehicle expects to reach the stop line. */
  arrivalMs: number;
}

export interface ArbiterState {
  mode: ArbiterMode;
  /** Latest time seen; time never runs backwards inside the arbiter. */
  nowMs: number;
  readonly approaches: ApproachState[];
}

export interface ArbiterConfig {
  /** conflicts[i][j]: approaches i and j must never be asserted together (symmetric). */
  readonly conflicts: readonly (readonly boolean[])[];
  /** Approaches taken out of service by configuration. */
  readonly disabled?: readonly boolean[];
  readonly updateTimeoutMs: number;
  readonly holdMaxMs: number;
  readonly minGapMs: number;
  readonly etaWindowMs: number;
  readonly releaseMs: number;
}

/** A checked request. The rt loop reuses one instance per source (fields overwritten per frame). */
export interface RequestInput {
  readonly kind: 'request';
  type: RequestKind;
  approach: number;
  vehicle: number;
  priority: Priority;
  /** Time to arrival at the stop line, ms. */
  etaMs: number;
}

export type ArbiterInput =
  | RequestInput
  | { readonly kind: 'tick' }
  | { readonly kind: 'selfTest'; readonly ok: boolean; readonly detail?: string }
  /** `approach` undefined: a system fault (stuck contact, watchdog): everything off, latched. */
  | { readonly kind: 'fault'; readonly approach?: number; readonly reason: string };

export type ReleaseReason = 'cancel' | 'timeout' | 'holdMax' | 'preempted' | 'fault';
export type IgnoreReason = 'notRunning' | 'outOfService' | 'busy' | 'gap' | 'unknownApproach' | 'noRequest';

export type ArbiterCommandKind =
  | 'output'
  | 'armed'
  | 'asserted'
  | 'released'
  | 'expired'
  | 'ignored'
  | 'ready'
  | 'fault';

/**
 * One command, a reused record: `output` drives approach `approach` to `level`; every other kind
 * is an event. Fields a kind does not use keep their reset values (level 0, NO_VEHICLE,
 * priority 1, reason 'none', detail ''). `approach` is -1 for `ready` and for a system fault.
 */
export interface ArbiterCommand {
  kind: ArbiterCommandKind;
  approach: number;
  level: 0 | 1;
  vehicle: number;
  priority: Priority;
  reason: ReleaseReason | IgnoreReason | 'none';
  /** Why a fault happened (fault only). */
  detail: string;
}

/**
 * Where `step` writes. Reused across steps: `commands[0 .. count)` are this step's commands (the
 * array only grows, to the most commands one step has needed); `scratch` is arbitration work space.
 */
export interface StepOutput {
  readonly state: ArbiterState;
  readonly commands: ArbiterCommand[];
  count: number;
  readonly scratch: { readonly candidates: Int32Array; readonly reserved: Uint8Array };
}

/** The events of one step as plain objects (allocates: for tests, logs and tools, not the loop). */
export type ArbiterEvent =
  | { readonly type: 'armed'; readonly approach: number; readonly vehicle: number }
  | {
      readonly type: 'asserted';
      readonly approach: number;
      readonly vehicle: number;
      readonly priority: Priority;
    }
  | {
      readonly type: 'released';
      readonly approach: number;
      readonly vehicle: number;
      readonly reason: ReleaseReason;
    }
  | { readonly type: 'expired'; readonly approach: number; readonly vehicle: number }
  | {
      readonly type: 'ignored';
      readonly approach: number;
      readonly vehicle: number;
      readonly reason: IgnoreReason;
    }
  | { readonly type: 'ready' }
  | { readonly type: 'fault'; readonly approach: number | 'system'; readonly reason: string };

function idleApproach(phase: ApproachPhase, nowMs: number): ApproachState {
  return {
    phase,
    sinceMs: nowMs,
    vehicle: NO_VEHICLE,
    priority: 1,
    firstMs: 0,
    lastUpdateMs: 0,
    arrivalMs: 0,
  };
}

export function initialArbiterState(config: ArbiterConfig, nowMs: number): ArbiterState {
  return {
    mode: 'selfTest',
    nowMs,
    approaches: config.conflicts.map((_, i) =>
      idleApproach(config.disabled?.[i] ? 'disabled' : 'idle', nowMs),
    ),
  };
}

/** A reusable output for `step` (allocate once per loop; two of them to swap states). */
export function createStepOutput(config: ArbiterConfig): StepOutput {
  const n = config.conflicts.length;
  return {
    state: initialArbiterState(config, 0),
    commands: [],
    count: 0,
    scratch: { candidates: new Int32Array(n), reserved: new Uint8Array(n) },
  };
}

/** The level each approach's output should have in `state`: 1 only when asserted. */
export function outputLevels(state: ArbiterState): (0 | 1)[] {
  return state.approaches.map((a) => (a.phase === 'asserted' ? 1 : 0));
}

/** This step's commands as plain objects (allocates; for tests and tools). */
export function stepCommands(out: StepOutput): ArbiterCommand[] {
  return out.commands.slice(0, out.count).map((c) => ({ ...c }));
}

/** This step's events as plain objects (allocates; for tests and tools). */
export function stepEvents(out: StepOutput): ArbiterEvent[] {
  const events: ArbiterEvent[] = [];
  for (let k = 0; k < out.count; k++) {
    const c = out.commands[k]!;
    switch (c.kind) {
      case 'output':
        break;
      case 'armed':
      case 'expired':
        events.push({ type: c.kind, approach: c.approach, vehicle: c.vehicle });
        break;
      case 'asserted':
        events.push({ type: 'asserted', approach: c.approach, vehicle: c.vehicle, priority: c.priority });
        break;
      case 'released':
        events.push({
          type: 'released',
          approach: c.approach,
          vehicle: c.vehicle,
          reason: c.reason as ReleaseReason,
        });
        break;
      case 'ignored':
        events.push({
          type: 'ignored',
          approach: c.approach,
          vehicle: c.vehicle,
          reason: c.reason as IgnoreReason,
        });
        break;
      case 'ready':
        events.push({ type: 'ready' });
        break;
      case 'fault':
        events.push({ type: 'fault', approach: c.approach < 0 ? 'system' : c.approach, reason: c.detail });
        break;
    }
  }
  return events;
}

/**
 * One arbiter step: reads `state`, writes the next state and this step's commands into `out`
 * (which must not hold `state` itself). Pure: the same (state, input, nowMs, config) always gives
 * the same `out.state` and `out.commands[0 .. out.count)`, whatever `out` held before.
 */
export function step(
  state: ArbiterState,
  input: ArbiterInput,
  nowMs: number,
  config: ArbiterConfig,
  out: StepOutput,
): void {
  if (out.state === state) throw new Error('step: out.state must be a different object from state');
  // A clock that jumps backwards must not stretch holds or gaps: time only moves forwards here.
  const now = Math.max(nowMs, state.nowMs);
  const s = out.state;
  const approaches = s.approaches;
  const n = state.approaches.length;
  while (approaches.length < n) approaches.push(idleApproach('idle', 0));
  approaches.length = n;
  for (let i = 0; i < n; i++) copyApproach(state.approaches[i]!, approaches[i]!);
  s.mode = state.mode;
  s.nowMs = now;
  out.count = 0;

  // 1. Timers first (freshness, maximum hold, release, minimum gap), so the input meets the
  //    state as of `now`: an approach whose gap ended before this request can take it.
  for (let i = 0; i < n; i++) {
    const a = approaches[i]!;
    if (a.phase === 'armed' || a.phase === 'asserted') {
      if (a.phase === 'asserted' && now - a.sinceMs >= config.holdMaxMs) {
        release(out, i, 'holdMax', 'fault');
        event(out, 'fault', i, NO_VEHICLE, 1, 'none', `held for ${config.holdMaxMs} ms (holdMaxS)`);
      } else if (now - a.lastUpdateMs > config.updateTimeoutMs) {
        if (a.phase === 'asserted') release(out, i, 'timeout', 'releasing');
        else {
          event(out, 'expired', i, a.vehicle, 1, 'none', '');
          setPhase(a, 'idle', now);
        }
      }
    } else if (a.phase === 'releasing' && now - a.sinceMs >= config.releaseMs) {
      setPhase(a, config.minGapMs > 0 ? 'lockout' : 'idle', now);
    } else if (a.phase === 'lockout' && now - a.sinceMs >= config.minGapMs) {
      setPhase(a, 'idle', now);
    }
  }

  // 2. The input, against approaches brought up to date.
  switch (input.kind) {
    case 'selfTest':
      if (s.mode === 'selfTest') {
        if (input.ok) {
          s.mode = 'running';
          event(out, 'ready', -1, NO_VEHICLE, 1, 'none', '');
        } else {
          s.mode = 'fault';
          event(out, 'fault', -1, NO_VEHICLE, 1, 'none', `self-test failed: ${input.detail ?? 'no detail'}`);
          for (let i = 0; i < n; i++) setPhase(approaches[i]!, 'fault', now);
        }
      }
      break;
    case 'fault':
      if (input.approach === undefined) {
        if (s.mode !== 'fault') event(out, 'fault', -1, NO_VEHICLE, 1, 'none', input.reason);
        s.mode = 'fault';
        for (let i = 0; i < n; i++) release(out, i, 'fault', 'fault');
      } else if (input.approach >= 0 && input.approach < n) {
        if (approaches[input.approach]!.phase !== 'fault') {
          event(out, 'fault', input.approach, NO_VEHICLE, 1, 'none', input.reason);
        }
        release(out, input.approach, 'fault', 'fault');
      }
      break;
    case 'request':
      handleRequest(out, input);
      break;
    case 'tick':
      break;
  }

  // 3. Arbitration: armed approaches inside their ETA window, best first.
  if (s.mode === 'running') arbitrate(out, config);
}

function copyApproach(from: ApproachState, to: ApproachState): void {
  to.phase = from.phase;
  to.sinceMs = from.sinceMs;
  to.vehicle = from.vehicle;
  to.priority = from.priority;
  to.firstMs = from.firstMs;
  to.lastUpdateMs = from.lastUpdateMs;
  to.arrivalMs = from.arrivalMs;
}

/** Enters a phase without a request (everything but armed/asserted). */
function setPhase(a: ApproachState, phase: ApproachPhase, now: number): void {
  a.phase = phase;
  a.sinceMs = now;
  a.vehicle = NO_VEHICLE;
  a.priority = 1;
  a.firstMs = 0;
  a.lastUpdateMs = 0;
  a.arrivalMs = 0;
}

function nextCommand(out: StepOutput): ArbiterCommand {
  let c = out.commands[out.count];
  if (c === undefined) {
    c = {
      kind: 'output',
      approach: 0,
      level: 0,
      vehicle: NO_VEHICLE,
      priority: 1,
      reason: 'none',
      detail: '',
    };
    out.commands.push(c);
  }
  out.count++;
  return c;
}

function output(out: StepOutput, approach: number, level: 0 | 1): void {
  const c = nextCommand(out);
  c.kind = 'output';
  c.approach = approach;
  c.level = level;
  c.vehicle = NO_VEHICLE;
  c.priority = 1;
  c.reason = 'none';
  c.detail = '';
}

function event(
  out: StepOutput,
  kind: Exclude<ArbiterCommandKind, 'output'>,
  approach: number,
  vehicle: number,
  priority: Priority,
  reason: ArbiterCommand['reason'],
  detail: string,
): void {
  const c = nextCommand(out);
  c.kind = kind;
  c.approach = approach;
  c.level = 0;
  c.vehicle = vehicle;
  c.priority = priority;
  c.reason = reason;
  c.detail = detail;
}

// The helpers below take the time from out.state.nowMs, not as an argument: a fractional number
// passed to a call V8 does not inline is boxed, an allocation per call.

function release(out: StepOutput, i: number, reason: ReleaseReason, next: 'releasing' | 'fault'): void {
  const a = out.state.approaches[i]!;
  if (a.phase === 'asserted') {
    output(out, i, 0);
    event(out, 'released', i, a.vehicle, 1, reason, '');
  }
  setPhase(a, next, out.state.nowMs);
}

function handleRequest(out: StepOutput, input: RequestInput): void {
  const now = out.state.nowMs;
  const i = input.approach;
  const a = out.state.approaches[i];
  const v = input.vehicle;
  if (a === undefined) {
    event(out, 'ignored', i, v, 1, 'unknownApproach', '');
    return;
  }
  if (out.state.mode !== 'running') {
    event(out, 'ignored', i, v, 1, 'notRunning', '');
    return;
  }
  if (a.phase === 'fault' || a.phase === 'disabled') {
    event(out, 'ignored', i, v, 1, 'outOfService', '');
    return;
  }
  const held = a.phase === 'armed' || a.phase === 'asserted';
  const own = held && a.vehicle === v;
  if (input.type === 'cancel') {
    if (!own) {
      event(out, 'ignored', i, v, 1, 'noRequest', '');
      return;
    }
    if (a.phase === 'asserted') release(out, i, 'cancel', 'releasing');
    else {
      event(out, 'released', i, v, 1, 'cancel', '');
      setPhase(a, 'idle', now);
    }
    return;
  }
  const arrivalMs = now + Math.max(0, input.etaMs);
  if (own) {
    a.priority = input.priority;
    a.lastUpdateMs = now;
    a.arrivalMs = arrivalMs;
    return;
  }
  if (held) {
    // Another vehicle holds the approach; a more important one takes it over (same green).
    if (input.priority <= a.priority) {
      event(out, 'ignored', i, v, 1, 'busy', '');
      return;
    }
    a.vehicle = v;
    a.priority = input.priority;
    a.firstMs = now;
    a.lastUpdateMs = now;
    a.arrivalMs = arrivalMs;
    return;
  }
  if (a.phase !== 'idle') {
    event(out, 'ignored', i, v, 1, 'gap', '');
    return;
  }
  a.phase = 'armed';
  a.sinceMs = now;
  a.vehicle = v;
  a.priority = input.priority;
  a.firstMs = now;
  a.lastUpdateMs = now;
  a.arrivalMs = arrivalMs;
  event(out, 'armed', i, v, 1, 'none', '');
}

/** True when armed approach x ranks before armed approach y. */
function ranksBefore(approaches: ApproachState[], x: number, y: number): boolean {
  const a = approaches[x]!;
  const b = approaches[y]!;
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.firstMs !== b.firstMs) return a.firstMs < b.firstMs;
  return x < y;
}

function arbitrate(out: StepOutput, config: ArbiterConfig): void {
  const now = out.state.nowMs;
  const approaches = out.state.approaches;
  const n = approaches.length;
  const { candidates, reserved } = out.scratch;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const a = approaches[i]!;
    if (a.phase === 'armed' && a.arrivalMs - now <= config.etaWindowMs) {
      // Insertion in rank order (a handful of approaches: no sort call, no allocation).
      let k = count++;
      while (k > 0 && ranksBefore(approaches, i, candidates[k - 1]!)) {
        candidates[k] = candidates[k - 1]!;
        k--;
      }
      candidates[k] = i;
    }
  }
  if (count === 0) return;
  // Approaches a better-ranked waiting candidate conflicts with are reserved for it.
  reserved.fill(0);
  for (let k = 0; k < count; k++) {
    const c = candidates[k]!;
    const cand = approaches[c]!;
    const row = config.conflicts[c]!;
    // Emergency beats transit: a less important conflicting assertion is released at once,
    // even if this candidate must still wait for someone else.
    for (let j = 0; j < n; j++) {
      const o = approaches[j]!;
      if (row[j] && o.phase === 'asserted' && o.priority < cand.priority) {
        release(out, j, 'preempted', 'releasing');
      }
    }
    let blocked = reserved[c] === 1;
    for (let j = 0; j < n && !blocked; j++) {
      if (!row[j]) continue;
      const o = approaches[j]!;
      // A contact just switched off (released, or off because of a fault) still needs its
      // release time before a conflicting approach may be served.
      blocked =
        o.phase === 'asserted' ||
        o.phase === 'releasing' ||
        (o.phase === 'fault' && now - o.sinceMs < config.releaseMs);
    }
    if (!blocked) {
      cand.phase = 'asserted';
      cand.sinceMs = now;
      output(out, c, 1);
      event(out, 'asserted', c, cand.vehicle, cand.priority, 'none', '');
      continue;
    }
    // A waiting candidate keeps the approaches it conflicts with from lower-ranked candidates.
    for (let j = 0; j < n; j++) if (row[j]) reserved[j] = 1;
  }
}

/** Builds the arbiter's config from the gateway config's preemption section. */
export function arbiterConfigFrom(p: {
  approaches: readonly { id: string }[];
  conflicts: Readonly<Record<string, readonly string[]>>;
  timing: {
    updateTimeoutS: number;
    holdMaxS: number;
    minGapS: number;
    etaWindowS: number;
    releaseMs: number;
  };
}): ArbiterConfig {
  const ids = p.approaches.map((a) => a.id);
  return {
    conflicts: ids.map((a) =>
      ids.map((b) => (p.conflicts[a] ?? []).includes(b) || (p.conflicts[b] ?? []).includes(a)),
    ),
    updateTimeoutMs: p.timing.updateTimeoutS * 1000,
    holdMaxMs: p.timing.holdMaxS * 1000,
    minGapMs: p.timing.minGapS * 1000,
    etaWindowMs: p.timing.etaWindowS * 1000,
    releaseMs: p.timing.releaseMs,
  };
}
