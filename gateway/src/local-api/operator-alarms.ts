// Operator alarms raised by flows (`brana alarm`): a pure state machine per alarm name. Only a
// change makes an event (`alarm.raised|acknowledged|cleared`), so a flow that repeats itself does
// not flood the fleet; raising an active alarm again with a higher severity is an escalation and
// makes a new `alarm.raised` that needs acknowledging again.

export const ALARM_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];
export type OperatorAlarmState = 'raised' | 'acknowledged' | 'cleared';
export type AlarmAction = 'raise' | 'ack' | 'clear';
export type AlarmEventType = 'alarm.raised' | 'alarm.acknowledged' | 'alarm.cleared';

export interface OperatorAlarm {
  name: string;
  state: OperatorAlarmState;
  severity: AlarmSeverity;
  text: string;
  /** Where it comes from in people's terms ("room 12, bed 2"); free text. */
  origin: string | undefined;
  raisedMs: number;
  changedMs: number;
  /** Who made the last change (the Node-RED node's name or id). */
  by: string | undefined;
}

export interface AlarmInput {
  severity?: AlarmSeverity;
  text?: string;
  origin?: string;
  by?: string;
}

export type AlarmStep =
  /** `alarm` undefined: clearing an alarm that was never raised, which changes nothing. */
  | { ok: true; alarm: OperatorAlarm | undefined; event: AlarmEventType | undefined; escalated: boolean }
  | { ok: false; message: string };

const rank = (s: AlarmSeverity) => ALARM_SEVERITIES.indexOf(s);

export function alarmStep(
  name: string,
  current: OperatorAlarm | undefined,
  action: AlarmAction,
  input: AlarmInput,
  nowMs: number,
): AlarmStep {
  const active = current !== undefined && current.state !== 'cleared';
  const unchanged = { ok: true as const, event: undefined, escalated: false };
  if (action === 'raise') {
    const severity = input.severity ?? 'warning';
    if (active && rank(severity) <= rank(current.severity)) return { ...unchanged, alarm: current };
    return {
      ok: true,
      alarm: {
        name,
        state: 'raised',
        severity,
        text: input.text ?? current?.text ?? name,
        origin: input.origin ?? current?.origin,
        raisedMs: active ? current.raisedMs : nowMs,
        changedMs: nowMs,
        by: input.by,
      },
      event: 'alarm.raised',
      escalated: active,
    };
  }
  if (action === 'ack') {
    if (!active) {
      return {
        ok: false,
        message: `alarm "${name}" is not raised${current ? ' (it was cleared)' : ''}; there is nothing to acknowledge`,
      };
    }
    if (current.state === 'acknowledged') return { ...unchanged, alarm: current };
    return {
      ok: true,
      alarm: { ...current, state: 'acknowledged', changedMs: nowMs, by: input.by },
      event: 'alarm.acknowledged',
      escalated: false,
    };
  }
  // Clearing what is not active changes nothing: a flow may clear on every "back to normal".
  if (!active) return { ...unchanged, alarm: current };
  return {
    ok: true,
    alarm: { ...current, state: 'cleared', changedMs: nowMs, by: input.by },
    event: 'alarm.cleared',
    escalated: false,
  };
}
