// Alarm inputs and relay rules as a pure decision: `step(rules, state, input, nowMs)` says which
// relays change and which alarm events to send. The I/O around it (GPIO edges, relay writes, the
// hold timer) lives in `alarm-unit.ts`. A relay is owned by its rules or by flows (config
// `relays[].owner`): a flow's input moves only a relay owned by flows, and rules only the others.
import type { GatewayConfig, RelayOwner } from '../config/index.ts';

export type AlarmKind = GatewayConfig['alarms'][number]['kind'];

/** What a relay rule watches: an alarm input by index, or a channel compared with thresholds. */
export type RuleCondition =
  | { kind: 'alarm'; alarm: number }
  | { kind: 'channel'; channel: number; above: number | undefined; below: number | undefined };

export interface CompiledRule {
  condition: RuleCondition;
  holdMs: number;
}

export interface CompiledRelay {
  name: string;
  owner: RelayOwner;
  rules: CompiledRule[];
}

/** A relay as the config gives it; `owner` defaults to rules. */
export type RelayConfig = Omit<GatewayConfig['relays'][number], 'owner'> & { owner?: RelayOwner };

export interface AlarmRules {
  alarms: { name: string; kind: AlarmKind }[];
  /** Channel keys `<device>.<point>` that some rule compares; values arrive by index. */
  channels: string[];
  relays: CompiledRelay[];
}

/**
 * Per rule: whether its condition holds now, and until when (monotonic ms) it keeps its relay on
 * after the condition stopped holding. Per relay: the level last commanded.
 */
export interface AlarmState {
  alarmActive: boolean[];
  /** Last value per channel; NaN until the first reading (no condition holds on NaN). */
  channelValue: number[];
  ruleHolds: boolean[][];
  ruleHoldUntilMs: number[][];
  /** Per relay: the level flows last asked for (always false for a relay owned by rules). */
  flowOn: boolean[];
  relayOn: boolean[];
}

export type AlarmInput =
  | { kind: 'alarm'; alarm: number; active: boolean }
  | { kind: 'value'; channel: number; value: number }
  /** A flow asks for relay `relay` on or off; only a relay owned by flows follows it. */
  | { kind: 'flow'; relay: number; on: boolean }
  /** Time passes: hold times may end. */
  | { kind: 'tick' };

export type AlarmCommand = { kind: 'relay'; relay: number; on: boolean };

export type AlarmEvent =
  | { kind: 'alarm.raised' | 'alarm.cleared'; alarm: number }
  | { kind: 'relay.switched'; relay: number; on: boolean; cause: 'rules' | 'flow' };

export interface AlarmStepResult {
  state: AlarmState;
  commands: AlarmCommand[];
  events: AlarmEvent[];
}

/** Resolves rule `when` names to alarms or channels. Config validation has already checked them. */
export function compileAlarmRules(config: {
  alarms: GatewayConfig['alarms'];
  relays: readonly RelayConfig[];
}): AlarmRules {
  const alarmIndex = new Map(config.alarms.map((a, i) => [a.name, i]));
  const channels: string[] = [];
  const channelIndex = new Map<string, number>();
  const relays = config.relays.map((r) => ({
    name: r.name,
    owner: r.owner ?? 'rules',
    rules: r.rules.map((rule): CompiledRule => {
      const alarm = alarmIndex.get(rule.when);
      const holdMs = rule.holdS * 1000;
      if (alarm !== undefined) return { condition: { kind: 'alarm', alarm }, holdMs };
      let channel = channelIndex.get(rule.when);
      if (channel === undefined) {
        channel = channels.length;
        channels.push(rule.when);
        channelIndex.set(rule.when, channel);
      }
      return { condition: { kind: 'channel', channel, above: rule.above, below: rule.below }, holdMs };
    }),
  }));
  return { alarms: config.alarms.map((a) => ({ name: a.name, kind: a.kind })), channels, relays };
}

/** Everything off and unknown: the state at boot. Relays start off (DESIGN: outputs off at boot). */
export function initialAlarmState(rules: AlarmRules): AlarmState {
  return {
    alarmActive: rules.alarms.map(() => false),
    channelValue: rules.channels.map(() => Number.NaN),
    ruleHolds: rules.relays.map((r) => r.rules.map(() => false)),
    ruleHoldUntilMs: rules.relays.map((r) => r.rules.map(() => Number.NEGATIVE_INFINITY)),
    flowOn: rules.relays.map(() => false),
    relayOn: rules.relays.map(() => false),
  };
}

/** Whether a condition holds: an active alarm; a value above `above` or below `below` (either). */
export function conditionHolds(
  c: RuleCondition,
  state: Pick<AlarmState, 'alarmActive' | 'channelValue'>,
): boolean {
  if (c.kind === 'alarm') return state.alarmActive[c.alarm] === true;
  const v = state.channelValue[c.channel] ?? Number.NaN;
  if (Number.isNaN(v)) return false;
  return (c.above !== undefined && v > c.above) || (c.below !== undefined && v < c.below);
}

export function step(
  rules: AlarmRules,
  state: AlarmState,
  input: AlarmInput,
  nowMs: number,
): AlarmStepResult {
  const events: AlarmEvent[] = [];
  const commands: AlarmCommand[] = [];
  let alarmActive = state.alarmActive;
  let channelValue = state.channelValue;
  let flowOn = state.flowOn;
  if (input.kind === 'flow') {
    // Ownership holds here too, whatever the caller checked: a flow never moves a rules relay.
    if (rules.relays[input.relay]?.owner === 'flows' && state.flowOn[input.relay] !== input.on) {
      flowOn = state.flowOn.slice();
      flowOn[input.relay] = input.on;
    }
  } else if (input.kind === 'alarm') {
    if (state.alarmActive[input.alarm] !== input.active) {
      alarmActive = state.alarmActive.slice();
      alarmActive[input.alarm] = input.active;
      events.push({ kind: input.active ? 'alarm.raised' : 'alarm.cleared', alarm: input.alarm });
    }
  } else if (input.kind === 'value') {
    channelValue = state.channelValue.slice();
    channelValue[input.channel] = input.value;
  }
  const ruleHolds: boolean[][] = [];
  const ruleHoldUntilMs: number[][] = [];
  const relayOn: boolean[] = [];
  rules.relays.forEach((relay, r) => {
    const holds: boolean[] = [];
    const until: number[] = [];
    let on = false;
    relay.rules.forEach((rule, k) => {
      const was = state.ruleHolds[r]?.[k] ?? false;
      const now = conditionHolds(rule.condition, { alarmActive, channelValue });
      let holdUntil = state.ruleHoldUntilMs[r]?.[k] ?? Number.NEGATIVE_INFINITY;
      // The hold runs from the moment the condition stops holding.
      if (was && !now) holdUntil = nowMs + rule.holdMs;
      holds.push(now);
      until.push(holdUntil);
      if (now || nowMs < holdUntil) on = true;
    });
    ruleHolds.push(holds);
    ruleHoldUntilMs.push(until);
    const byFlow = relay.owner === 'flows';
    if (byFlow) on = flowOn[r] === true;
    relayOn.push(on);
    if (on !== state.relayOn[r]) {
      commands.push({ kind: 'relay', relay: r, on });
      events.push({ kind: 'relay.switched', relay: r, on, cause: byFlow ? 'flow' : 'rules' });
    }
  });
  return {
    state: { alarmActive, channelValue, ruleHolds, ruleHoldUntilMs, flowOn, relayOn },
    commands,
    events,
  };
}

/** The next moment (monotonic ms) a `tick` can change anything, or undefined when none will. */
export function nextDeadlineMs(state: AlarmState, nowMs: number): number | undefined {
  let next: number | undefined;
  for (const until of state.ruleHoldUntilMs) {
    for (const u of until) {
      if (u > nowMs && (next === undefined || u < next)) next = u;
    }
  }
  return next;
}
