// The preemption arbiter of one intersection as a pure function:
// step(state, input, nowMs) → { state, commands }. No I/O, no clock: the rt loop feeds it checked
// requests, ticks, self-test results and faults, and carries out the output commands it returns.
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

export interface ActiveRequest {
  readonly vehicle: string;
  readonly priority: Priority;
  /** When this vehicle's request was first seen (first come, first served). */
  readonly firstMs: number;
  readonly lastUpdateMs: number;
  /** Monotonic time the vehicle expects to reach the stop line. */
  readonly arrivalMs: number;
}

export type ApproachState =
  | { readonly phase: 'idle' | 'lockout' | 'fault' | 'disabled'; readonly sinceMs: number }
  | { readonly phase: 'releasing'; readonly sinceMs: number }
  | { readonly phase: 'armed' | 'asserted'; readonly sinceMs: number; readonly request: ActiveRequest };

export interface ArbiterState {
  readonly mode: ArbiterMode;
  /** Latest time seen; time never runs backwards inside the arbiter. */
  readonly nowMs: number;
  readonly approaches: readonly ApproachState[];
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

export type ArbiterInput =
  | {
      readonly kind: 'request';
      readonly type: RequestKind;
      readonly approach: number;
      readonly vehicle: string;
      readonly priority: Priority;
      /** Time to arrival at the stop line, ms. */
      readonly etaMs: number;
    }
  | { readonly kind: 'tick' }
  | { readonly kind: 'selfTest'; readonly ok: boolean; readonly detail?: string }
  /** `approach` undefined: a system fault (stuck contact, watchdog): everything off, latched. */
  | { readonly kind: 'fault'; readonly approach?: number; readonly reason: string };

export type ReleaseReason = 'cancel' | 'timeout' | 'holdMax' | 'preempted' | 'fault';
export type IgnoreReason = 'notRunning' | 'outOfService' | 'busy' | 'gap' | 'unknownApproach' | 'noRequest';

export type ArbiterEvent =
  | { readonly type: 'armed'; readonly approach: number; readonly vehicle: string }
  | {
      readonly type: 'asserted';
      readonly approach: number;
      readonly vehicle: string;
      readonly priority: Priority;
    }
  | {
      readonly type: 'released';
      readonly approach: number;
      readonly vehicle: string;
      readonly reason: ReleaseReason;
    }
  | { readonly type: 'expired'; readonly approach: number; readonly vehicle: string }
  | {
      readonly type: 'ignored';
      readonly approach: number;
      readonly vehicle: string;
      readonly reason: IgnoreReason;
    }
  | { readonly type: 'ready' }
  | { readonly type: 'fault'; readonly approach: number | 'system'; readonly reason: string };

export type ArbiterCommand =
  | { readonly kind: 'output'; readonly approach: number; readonly level: 0 | 1 }
  | { readonly kind: 'event'; readonly event: ArbiterEvent };

export interface StepResult {
  readonly state: ArbiterState;
  readonly commands: readonly ArbiterCommand[];
}

export function initialArbiterState(config: ArbiterConfig, nowMs: number): ArbiterState {
  return {
    mode: 'selfTest',
    nowMs,
    approaches: config.conflicts.map((_, i) => ({
      phase: config.disabled?.[i] ? 'disabled' : 'idle',
      sinceMs: nowMs,
    })),
  };
}

/** The level each approach's output should have in `state`: 1 only when asserted. */
export function outputLevels(state: ArbiterState): (0 | 1)[] {
  return state.approaches.map((a) => (a.phase === 'asserted' ? 1 : 0));
}

export function step(
  state: ArbiterState,
  input: ArbiterInput,
  nowMs: number,
  config: ArbiterConfig,
): StepResult {
  // A clock that jumps backwards must not stretch holds or gaps: time only moves forwards here.
  const now = Math.max(nowMs, state.nowMs);
  const approaches: ApproachState[] = [...state.approaches];
  const commands: ArbiterCommand[] = [];
  let mode = state.mode;
  const emit = (event: ArbiterEvent) => commands.push({ kind: 'event', event });
  const release = (i: number, reason: ReleaseReason, next: 'releasing' | 'fault') => {
    const a = approaches[i]!;
    if (a.phase === 'asserted') {
      commands.push({ kind: 'output', approach: i, level: 0 });
      emit({ type: 'released', approach: i, vehicle: a.request.vehicle, reason });
    }
    approaches[i] = { phase: next, sinceMs: now };
  };

  // 1. Timers first (freshness, maximum hold, release, minimum gap), so the input meets the
  //    state as of `now`: an approach whose gap ended before this request can take it.
  for (let i = 0; i < approaches.length; i++) {
    const a = approaches[i]!;
    if (a.phase === 'armed' || a.phase === 'asserted') {
      if (a.phase === 'asserted' && now - a.sinceMs >= config.holdMaxMs) {
        release(i, 'holdMax', 'fault');
        emit({ type: 'fault', approach: i, reason: `held for ${config.holdMaxMs} ms (holdMaxS)` });
      } else if (now - a.request.lastUpdateMs > config.updateTimeoutMs) {
        if (a.phase === 'asserted') release(i, 'timeout', 'releasing');
        else {
          emit({ type: 'expired', approach: i, vehicle: a.request.vehicle });
          approaches[i] = { phase: 'idle', sinceMs: now };
        }
      }
    } else if (a.phase === 'releasing' && now - a.sinceMs >= config.releaseMs) {
      approaches[i] =
        config.minGapMs > 0 ? { phase: 'lockout', sinceMs: now } : { phase: 'idle', sinceMs: now };
    } else if (a.phase === 'lockout' && now - a.sinceMs >= config.minGapMs) {
      approaches[i] = { phase: 'idle', sinceMs: now };
    }
  }

  // 2. The input, against approaches brought up to date.
  switch (input.kind) {
    case 'selfTest':
      if (mode === 'selfTest') {
        if (input.ok) {
          mode = 'running';
          emit({ type: 'ready' });
        } else {
          mode = 'fault';
          emit({
            type: 'fault',
            approach: 'system',
            reason: `self-test failed: ${input.detail ?? 'no detail'}`,
          });
          for (let i = 0; i < approaches.length; i++) approaches[i] = { phase: 'fault', sinceMs: now };
        }
      }
      break;
    case 'fault':
      if (input.approach === undefined) {
        if (mode !== 'fault') emit({ type: 'fault', approach: 'system', reason: input.reason });
        mode = 'fault';
        for (let i = 0; i < approaches.length; i++) release(i, 'fault', 'fault');
      } else if (input.approach >= 0 && input.approach < approaches.length) {
        if (approaches[input.approach]!.phase !== 'fault') {
          emit({ type: 'fault', approach: input.approach, reason: input.reason });
        }
        release(input.approach, 'fault', 'fault');
      }
      break;
    case 'request':
      handleRequest(input, now, mode, approaches, emit, release);
      break;
    case 'tick':
      break;
  }

  // 3. Arbitration: armed approaches inside their ETA window, best first.
  if (mode === 'running') arbitrate(approaches, now, config, commands, emit, release);

  return { state: { mode, nowMs: now, approaches }, commands };
}

type Emit = (e: ArbiterEvent) => void;
type Release = (i: number, reason: ReleaseReason, next: 'releasing' | 'fault') => void;

function handleRequest(
  input: Extract<ArbiterInput, { kind: 'request' }>,
  now: number,
  mode: ArbiterMode,
  approaches: ApproachState[],
  emit: Emit,
  release: Release,
): void {
  const i = input.approach;
  const a = approaches[i];
  const ignore = (reason: IgnoreReason) =>
    emit({ type: 'ignored', approach: i, vehicle: input.vehicle, reason });
  if (a === undefined) {
    ignore('unknownApproach');
    return;
  }
  if (mode !== 'running') {
    ignore('notRunning');
    return;
  }
  if (a.phase === 'fault' || a.phase === 'disabled') {
    ignore('outOfService');
    return;
  }
  const own = (a.phase === 'armed' || a.phase === 'asserted') && a.request.vehicle === input.vehicle;
  if (input.type === 'cancel') {
    if (!own) {
      ignore('noRequest');
      return;
    }
    if (a.phase === 'asserted') release(i, 'cancel', 'releasing');
    else {
      emit({ type: 'released', approach: i, vehicle: input.vehicle, reason: 'cancel' });
      approaches[i] = { phase: 'idle', sinceMs: now };
    }
    return;
  }
  const arrivalMs = now + Math.max(0, input.etaMs);
  if (own) {
    approaches[i] = {
      phase: a.phase,
      sinceMs: a.sinceMs,
      request: { ...a.request, priority: input.priority, lastUpdateMs: now, arrivalMs },
    };
    return;
  }
  if (a.phase === 'armed' || a.phase === 'asserted') {
    // Another vehicle holds the approach; a more important one takes it over (same green).
    if (input.priority <= a.request.priority) {
      ignore('busy');
      return;
    }
    approaches[i] = {
      phase: a.phase,
      sinceMs: a.sinceMs,
      request: {
        vehicle: input.vehicle,
        priority: input.priority,
        firstMs: now,
        lastUpdateMs: now,
        arrivalMs,
      },
    };
    return;
  }
  if (a.phase !== 'idle') {
    ignore('gap');
    return;
  }
  approaches[i] = {
    phase: 'armed',
    sinceMs: now,
    request: { vehicle: input.vehicle, priority: input.priority, firstMs: now, lastUpdateMs: now, arrivalMs },
  };
  emit({ type: 'armed', approach: i, vehicle: input.vehicle });
}

function arbitrate(
  approaches: ApproachState[],
  now: number,
  config: ArbiterConfig,
  commands: ArbiterCommand[],
  emit: Emit,
  release: Release,
): void {
  const candidates: number[] = [];
  for (let i = 0; i < approaches.length; i++) {
    const a = approaches[i]!;
    if (a.phase === 'armed' && a.request.arrivalMs - now <= config.etaWindowMs) candidates.push(i);
  }
  if (candidates.length === 0) return;
  candidates.sort((x, y) => {
    const a = approaches[x] as Extract<ApproachState, { request: ActiveRequest }>;
    const b = approaches[y] as Extract<ApproachState, { request: ActiveRequest }>;
    return b.request.priority - a.request.priority || a.request.firstMs - b.request.firstMs || x - y;
  });
  // Approaches a better-ranked waiting candidate conflicts with are reserved for it.
  const reserved = new Array<boolean>(approaches.length).fill(false);
  for (const c of candidates) {
    const cand = approaches[c] as Extract<ApproachState, { request: ActiveRequest }>;
    const row = config.conflicts[c]!;
    // Emergency beats transit: a less important conflicting assertion is released at once,
    // even if this candidate must still wait for someone else.
    for (let j = 0; j < approaches.length; j++) {
      const o = approaches[j]!;
      if (row[j] && o.phase === 'asserted' && o.request.priority < cand.request.priority) {
        release(j, 'preempted', 'releasing');
      }
    }
    let blocked = reserved[c]!;
    for (let j = 0; j < approaches.length && !blocked; j++) {
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
      approaches[c] = { phase: 'asserted', sinceMs: now, request: cand.request };
      commands.push({ kind: 'output', approach: c, level: 1 });
      emit({ type: 'asserted', approach: c, vehicle: cand.request.vehicle, priority: cand.request.priority });
      continue;
    }
    // A waiting candidate keeps the approaches it conflicts with from lower-ranked candidates.
    for (let j = 0; j < approaches.length; j++) if (row[j]) reserved[j] = true;
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
