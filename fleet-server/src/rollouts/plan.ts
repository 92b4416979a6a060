// The rollout decision, pure: plan(state, inputs) → { state, actions }. The service around it
// stores the state and carries out the actions (assign the desired config, push it, audit).
// A stage opens only when every target of the stages before it has finished (applied, failed or
// rolled back); the rollout stops by itself when more than maxFailureShare of a stage fails.

export type RolloutRunState = 'running' | 'paused' | 'aborted' | 'stopped' | 'completed';
export type TargetState = 'pending' | 'delivered' | 'applied' | 'failed' | 'rolledBack';

export interface RolloutTarget {
  gatewayId: string;
  stage: number;
  state: TargetState;
}

export interface RolloutPlanState {
  state: RolloutRunState;
  /** Index of the open stage; targets of stages ≤ currentStage have been assigned the config. */
  currentStage: number;
  stageCount: number;
  /** 0..1: a stage stops the rollout when failed / size > maxFailureShare. */
  maxFailureShare: number;
  targets: RolloutTarget[];
  stopReason: string | null;
}

export type RolloutInput =
  | { kind: 'report'; gatewayId: string; state: 'delivered' | 'applied' | 'failed' | 'rolledBack' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'abort' };

export type RolloutAction =
  /** Give these gateways the rollout's config as their desired config (push to those online). */
  | { type: 'assign'; stage: number; gatewayIds: string[] }
  | { type: 'stageDone'; stage: number }
  | { type: 'stopped'; stage: number; reason: string }
  | { type: 'completed' }
  | { type: 'ignored'; input: RolloutInput; reason: string };

const FINISHED: ReadonlySet<TargetState> = new Set(['applied', 'failed', 'rolledBack']);
const FAILED: ReadonlySet<TargetState> = new Set(['failed', 'rolledBack']);

export function isFinished(s: TargetState): boolean {
  return FINISHED.has(s);
}

/**
 * Splits targets into stages by cumulative percentages (e.g. [10, 100]: a 10 % canary, then the
 * rest). A non-empty fleet always gets at least one gateway in a non-zero stage's canary.
 */
export function assignStages(
  gatewayIds: readonly string[],
  cumulativePercents: readonly number[],
): RolloutTarget[] {
  const n = gatewayIds.length;
  const ends = cumulativePercents.map((p, i) =>
    i === cumulativePercents.length - 1 ? n : Math.min(n, Math.max(p > 0 ? 1 : 0, Math.ceil((n * p) / 100))),
  );
  return gatewayIds.map((gatewayId, idx) => {
    let stage = ends.findIndex((end) => idx < end);
    if (stage < 0) stage = cumulativePercents.length - 1;
    return { gatewayId, stage, state: 'pending' as const };
  });
}

/** The initial state and the first assignment. */
export function startRollout(
  targets: RolloutTarget[],
  stageCount: number,
  maxFailureShare: number,
): { state: RolloutPlanState; actions: RolloutAction[] } {
  const initial: RolloutPlanState = {
    state: 'running',
    currentStage: -1,
    stageCount,
    maxFailureShare,
    targets,
    stopReason: null,
  };
  return plan(initial, []);
}

export function plan(
  state: RolloutPlanState,
  inputs: readonly RolloutInput[],
): { state: RolloutPlanState; actions: RolloutAction[] } {
  const actions: RolloutAction[] = [];
  let s: RolloutPlanState = { ...state, targets: state.targets.map((t) => ({ ...t })) };
  const byId = new Map(s.targets.map((t) => [t.gatewayId, t]));

  for (const input of inputs) {
    switch (input.kind) {
      case 'report': {
        const t = byId.get(input.gatewayId);
        if (!t) {
          actions.push({ type: 'ignored', input, reason: 'gateway is not a target of this rollout' });
        } else if (t.stage > s.currentStage) {
          actions.push({ type: 'ignored', input, reason: 'gateway was not assigned this config yet' });
        } else if (FINISHED.has(t.state)) {
          actions.push({ type: 'ignored', input, reason: `target already ${t.state}` });
        } else if (input.state === 'delivered' && t.state === 'delivered') {
          // repeated delivery (reconnect): nothing changes
        } else {
          t.state = input.state;
        }
        break;
      }
      case 'pause':
        if (s.state === 'running') s = { ...s, state: 'paused' };
        else actions.push({ type: 'ignored', input, reason: `rollout is ${s.state}` });
        break;
      case 'resume':
        if (s.state === 'paused') s = { ...s, state: 'running' };
        else actions.push({ type: 'ignored', input, reason: `rollout is ${s.state}` });
        break;
      case 'abort':
        if (s.state === 'running' || s.state === 'paused')
          s = { ...s, state: 'aborted', stopReason: 'aborted by an operator' };
        else actions.push({ type: 'ignored', input, reason: `rollout is ${s.state}` });
        break;
    }
  }

  // Failure check over every opened stage (a late report can still stop the rollout).
  if (s.state === 'running' || s.state === 'paused') {
    for (let stage = 0; stage <= s.currentStage; stage++) {
      const members = s.targets.filter((t) => t.stage === stage);
      const failed = members.filter((t) => FAILED.has(t.state)).length;
      if (members.length > 0 && failed / members.length > s.maxFailureShare) {
        const reason = `${failed} of ${members.length} gateways in stage ${stage + 1} failed to apply (limit ${Math.round(s.maxFailureShare * 100)} %)`;
        s = { ...s, state: 'stopped', stopReason: reason };
        actions.push({ type: 'stopped', stage, reason });
        break;
      }
    }
  }

  // Advance while running and the open stage is finished.
  while (s.state === 'running') {
    const open = s.currentStage;
    if (open >= 0) {
      const members = s.targets.filter((t) => t.stage === open);
      if (!members.every((t) => FINISHED.has(t.state))) break;
      actions.push({ type: 'stageDone', stage: open });
    }
    const next = open + 1;
    if (next >= s.stageCount) {
      s = { ...s, state: 'completed' };
      actions.push({ type: 'completed' });
      break;
    }
    s = { ...s, currentStage: next };
    const ids = s.targets.filter((t) => t.stage === next).map((t) => t.gatewayId);
    if (ids.length > 0) actions.push({ type: 'assign', stage: next, gatewayIds: ids });
  }
  return { state: s, actions };
}
