import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALARM_SEVERITIES,
  type AlarmAction,
  type AlarmEventType,
  alarmStep,
  type OperatorAlarm,
} from './operator-alarms.ts';

const action = fc.record({
  action: fc.constantFrom<AlarmAction>('raise', 'ack', 'clear'),
  severity: fc.constantFrom(...ALARM_SEVERITIES),
  dtMs: fc.integer({ min: 0, max: 300_000 }),
});

function run(actions: { action: AlarmAction; severity: (typeof ALARM_SEVERITIES)[number]; dtMs: number }[]) {
  let alarm: OperatorAlarm | undefined;
  let now = 1_700_000_000_000;
  const events: { type: AlarmEventType; escalated: boolean; before: OperatorAlarm | undefined }[] = [];
  const refused: AlarmAction[] = [];
  for (const a of actions) {
    now += a.dtMs;
    const r = alarmStep('sos-12', alarm, a.action, { severity: a.severity, text: 'SOS room 12' }, now);
    if (!r.ok) {
      refused.push(a.action);
      continue;
    }
    if (r.event) events.push({ type: r.event, escalated: r.escalated, before: alarm });
    else expect(r.alarm).toBe(alarm);
    alarm = r.alarm;
  }
  return { alarm, events, refused };
}

describe('operator alarm state machine', () => {
  it('events follow raised → (acknowledged) → cleared; nothing is acknowledged or cleared twice', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const { events } = run(actions);
        let state: 'none' | 'raised' | 'acknowledged' | 'cleared' = 'none';
        for (const e of events) {
          if (e.type === 'alarm.raised') {
            // a raise while active is only ever an escalation
            expect(e.escalated).toBe(state === 'raised' || state === 'acknowledged');
            state = 'raised';
          } else if (e.type === 'alarm.acknowledged') {
            expect(state).toBe('raised');
            state = 'acknowledged';
          } else {
            expect(['raised', 'acknowledged']).toContain(state);
            state = 'cleared';
          }
        }
      }),
    );
  });

  it('an escalation always raises the severity; raising again at the same level is no event', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        for (const e of run(actions).events) {
          if (e.escalated) {
            expect(e.before).toBeDefined();
            const before = ALARM_SEVERITIES.indexOf(e.before!.severity);
            expect(before).toBeLessThan(ALARM_SEVERITIES.length - 1);
          }
        }
      }),
    );
  });

  it('acknowledging is refused exactly when no alarm is active, with the name in the reason', () => {
    expect(alarmStep('bed-3', undefined, 'ack', {}, 1)).toEqual({
      ok: false,
      message: 'alarm "bed-3" is not raised; there is nothing to acknowledge',
    });
    const raised = alarmStep('bed-3', undefined, 'raise', { severity: 'critical' }, 1);
    expect(raised).toMatchObject({ ok: true, event: 'alarm.raised', escalated: false });
    const alarm = raised.ok ? raised.alarm : undefined;
    const cleared = alarmStep('bed-3', alarm, 'clear', { by: 'night nurse' }, 2);
    expect(cleared).toMatchObject({ ok: true, event: 'alarm.cleared', alarm: { by: 'night nurse' } });
    const again = alarmStep('bed-3', cleared.ok ? cleared.alarm : undefined, 'ack', {}, 3);
    expect(again).toMatchObject({ ok: false, message: expect.stringContaining('it was cleared') });
  });

  it('clearing an alarm never raised changes nothing and is not an error', () => {
    expect(alarmStep('leak', undefined, 'clear', {}, 5)).toEqual({
      ok: true,
      alarm: undefined,
      event: undefined,
      escalated: false,
    });
  });

  it('keeps the first raise time through an escalation, and the newest text', () => {
    const a = alarmStep('sos', undefined, 'raise', { severity: 'warning', text: 'SOS' }, 100);
    const b = alarmStep(
      'sos',
      a.ok ? a.alarm : undefined,
      'raise',
      { severity: 'critical', text: 'SOS, no answer' },
      220,
    );
    expect(b).toMatchObject({
      ok: true,
      escalated: true,
      alarm: { raisedMs: 100, changedMs: 220, text: 'SOS, no answer', severity: 'critical', state: 'raised' },
    });
  });
});
