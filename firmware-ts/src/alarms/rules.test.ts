import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateGatewayConfig } from '../config/index.ts';
import {
  type AlarmInput,
  type AlarmRules,
  compileAlarmRules,
  conditionHolds,
  initialAlarmState,
  nextDeadlineMs,
  step,
} from './rules.ts';

const rules: AlarmRules = compileAlarmRules({
  alarms: [
    { name: 'sos', kind: 'sos', line: 'a', activeLevel: 1, debounceMs: 50 },
    { name: 'bed', kind: 'bed', line: 'b', activeLevel: 1, debounceMs: 50 },
  ],
  relays: [
    { name: 'light', line: 'r1', activeLevel: 1, rules: [{ when: 'sos', holdS: 30 }] },
    {
      name: 'call',
      line: 'r2',
      activeLevel: 1,
      rules: [
        { when: 'bed', holdS: 0 },
        { when: 'sos', holdS: 5 },
      ],
    },
    { name: 'fan', line: 'r3', activeLevel: 1, rules: [{ when: 'room.co2Ppm', above: 1200, holdS: 60 }] },
    {
      name: 'frost',
      line: 'r4',
      activeLevel: 1,
      rules: [{ when: 'room.temperatureC', below: 5, above: 35, holdS: 2 }],
    },
  ],
});

describe('alarm rules', () => {
  it('compiles rule names to alarms and channels in first-use order', () => {
    expect(rules.channels).toEqual(['room.co2Ppm', 'room.temperatureC']);
    expect(rules.relays[1]?.rules.map((r) => r.condition)).toEqual([
      { kind: 'alarm', alarm: 1 },
      { kind: 'alarm', alarm: 0 },
    ]);
    expect(rules.relays[2]?.rules[0]).toEqual({
      condition: { kind: 'channel', channel: 0, above: 1200, below: undefined },
      holdMs: 60_000,
    });
  });

  it('switches the relay on with the alarm and off only after the hold', () => {
    let s = initialAlarmState(rules);
    let r = step(rules, s, { kind: 'alarm', alarm: 0, active: true }, 1000);
    expect(r.commands).toEqual([
      { kind: 'relay', relay: 0, on: true },
      { kind: 'relay', relay: 1, on: true },
    ]);
    expect(r.events[0]).toEqual({ kind: 'alarm.raised', alarm: 0 });
    s = r.state;
    r = step(rules, s, { kind: 'alarm', alarm: 0, active: false }, 2000);
    expect(r.commands).toEqual([]);
    expect(r.events).toEqual([{ kind: 'alarm.cleared', alarm: 0 }]);
    expect(nextDeadlineMs(r.state, 2000)).toBe(7000);
    s = r.state;
    r = step(rules, s, { kind: 'tick' }, 6999);
    expect(r.commands).toEqual([]);
    r = step(rules, r.state, { kind: 'tick' }, 7000);
    expect(r.commands).toEqual([{ kind: 'relay', relay: 1, on: false }]);
    expect(nextDeadlineMs(r.state, 7000)).toBe(32_000);
    r = step(rules, r.state, { kind: 'tick' }, 32_000);
    expect(r.commands).toEqual([{ kind: 'relay', relay: 0, on: false }]);
    expect(nextDeadlineMs(r.state, 32_000)).toBeUndefined();
  });

  it('compares channel values: above, below, either side of a band; nothing before a reading', () => {
    const s0 = initialAlarmState(rules);
    expect(conditionHolds({ kind: 'channel', channel: 1, above: 35, below: 5 }, s0)).toBe(false);
    const cold = step(rules, s0, { kind: 'value', channel: 1, value: 4.9 }, 0);
    expect(cold.commands).toEqual([{ kind: 'relay', relay: 3, on: true }]);
    const mild = step(rules, cold.state, { kind: 'value', channel: 1, value: 20 }, 10);
    expect(mild.commands).toEqual([]);
    const hot = step(
      rules,
      step(rules, mild.state, { kind: 'tick' }, 2010).state,
      { kind: 'value', channel: 1, value: 36 },
      3000,
    );
    expect(hot.commands).toEqual([{ kind: 'relay', relay: 3, on: true }]);
    const co2 = step(rules, s0, { kind: 'value', channel: 0, value: 1200 }, 0);
    expect(co2.commands).toEqual([]);
    expect(step(rules, co2.state, { kind: 'value', channel: 0, value: 1201 }, 1).commands).toEqual([
      { kind: 'relay', relay: 2, on: true },
    ]);
  });

  it('never changes the state it was given', () => {
    const s = initialAlarmState(rules);
    const before = structuredClone(s);
    step(rules, s, { kind: 'alarm', alarm: 0, active: true }, 5);
    step(rules, s, { kind: 'value', channel: 0, value: 5000 }, 5);
    expect(s).toEqual(before);
  });

  const input = fc.oneof(
    fc.record({
      kind: fc.constant('alarm' as const),
      alarm: fc.integer({ min: 0, max: 1 }),
      active: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('value' as const),
      channel: fc.integer({ min: 0, max: 1 }),
      value: fc.oneof(fc.double({ min: -50, max: 3000, noNaN: true }), fc.constant(Number.NaN)),
    }),
    fc.constant({ kind: 'tick' as const }),
  );
  const run = fc.array(fc.tuple(input, fc.integer({ min: 0, max: 40_000 })), { maxLength: 200 });

  it('property: a relay is on exactly while a rule holds or within its hold after it stopped, from the input history', () => {
    fc.assert(
      fc.property(run, (steps) => {
        let state = initialAlarmState(rules);
        const mirror = rules.relays.map(() => false);
        // The history of each rule's condition after every step, to check against.
        const times: number[] = [];
        const held: boolean[][][] = [];
        let now = 0;
        for (const [inp, dt] of steps) {
          now += dt;
          const r = step(rules, state, inp as AlarmInput, now);
          for (const c of r.commands) {
            expect(mirror[c.relay]).not.toBe(c.on); // commands only on a change
            mirror[c.relay] = c.on;
          }
          state = r.state;
          times.push(now);
          held.push(
            rules.relays.map((relay) => relay.rules.map((rule) => conditionHolds(rule.condition, state))),
          );
          const i = times.length - 1;
          rules.relays.forEach((relay, ri) => {
            const expected = relay.rules.some((rule, k) => {
              if (held[i]?.[ri]?.[k]) return true;
              // It stopped holding at some step j (held before j, not at j): on until times[j] + hold.
              for (let j = 1; j <= i; j++) {
                if (held[j - 1]?.[ri]?.[k] && !held[j]?.[ri]?.[k] && now < (times[j] ?? 0) + rule.holdMs)
                  return true;
              }
              return false;
            });
            expect(state.relayOn[ri]).toBe(expected);
            expect(mirror[ri]).toBe(expected);
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: an alarm event is sent exactly on each change of the input, and ticks at the deadline settle everything', () => {
    fc.assert(
      fc.property(run, (steps) => {
        let state = initialAlarmState(rules);
        const active = [false, false];
        let now = 0;
        for (const [inp, dt] of steps) {
          now += dt;
          const r = step(rules, state, inp as AlarmInput, now);
          const alarmEvents = r.events.filter((e) => e.kind !== 'relay.switched');
          if (inp.kind === 'alarm' && active[inp.alarm] !== inp.active) {
            expect(alarmEvents).toEqual([
              { kind: inp.active ? 'alarm.raised' : 'alarm.cleared', alarm: inp.alarm },
            ]);
            active[inp.alarm] = inp.active;
          } else {
            expect(alarmEvents).toEqual([]);
          }
          state = r.state;
        }
        // With no more input, ticking at each deadline ends every hold; then only live conditions keep a relay on.
        for (let d = nextDeadlineMs(state, now); d !== undefined; d = nextDeadlineMs(state, now)) {
          expect(d).toBeGreaterThan(now);
          now = d;
          state = step(rules, state, { kind: 'tick' }, now).state;
        }
        rules.relays.forEach((relay, ri) => {
          expect(state.relayOn[ri]).toBe(relay.rules.some((rule) => conditionHolds(rule.condition, state)));
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('relays owned by flows', () => {
  const mixed: AlarmRules = compileAlarmRules({
    alarms: [{ name: 'sos', kind: 'sos', line: 'a', activeLevel: 1, debounceMs: 50 }],
    relays: [
      { name: 'light', line: 'r1', activeLevel: 1, rules: [{ when: 'sos', holdS: 30 }] },
      { name: 'fan', line: 'r2', activeLevel: 1, owner: 'flows', rules: [] },
      { name: 'co2', line: 'r3', activeLevel: 1, rules: [{ when: 'room.co2Ppm', above: 1200, holdS: 5 }] },
    ],
  });
  const anyInput = fc.oneof(
    fc.record({ kind: fc.constant('alarm' as const), alarm: fc.constant(0), active: fc.boolean() }),
    fc.record({
      kind: fc.constant('value' as const),
      channel: fc.constant(0),
      value: fc.integer({ min: 0, max: 3000 }),
    }),
    fc.constant({ kind: 'tick' as const }),
    // A flow's input for any relay index, even out of range.
    fc.record({
      kind: fc.constant('flow' as const),
      relay: fc.integer({ min: -1, max: 4 }),
      on: fc.boolean(),
    }),
  );

  it('property: flow inputs never move a relay owned by rules, and a flows relay follows only them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyInput, fc.integer({ min: 0, max: 20_000 })), { maxLength: 150 }),
        (steps) => {
          let withFlows = initialAlarmState(mixed);
          let without = initialAlarmState(mixed);
          let fan = false;
          let now = 0;
          for (const [inp, dt] of steps) {
            now += dt;
            const r = step(mixed, withFlows, inp as AlarmInput, now);
            withFlows = r.state;
            if (inp.kind !== 'flow') without = step(mixed, without, inp as AlarmInput, now).state;
            else without = step(mixed, without, { kind: 'tick' }, now).state;
            if (inp.kind === 'flow' && inp.relay === 1) fan = inp.on;
            expect(withFlows.relayOn[0]).toBe(without.relayOn[0]);
            expect(withFlows.relayOn[2]).toBe(without.relayOn[2]);
            expect(withFlows.relayOn[1]).toBe(fan);
            for (const e of r.events) {
              if (e.kind === 'relay.switched') expect(e.cause).toBe(e.relay === 1 ? 'flow' : 'rules');
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('alarm and relay config', () => {
  const base = {
    name: 'care home',
    alarms: [{ name: 'sos', kind: 'sos', line: 'sos.button' }],
  };
  it('refuses a rule that names neither an alarm nor a channel with a threshold, at its path', () => {
    const r = validateGatewayConfig({
      ...base,
      relays: [{ name: 'light', line: 'alarm.relay', rules: [{ when: 'sso', holdS: 30 }] }],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const issue = r.errors.find((i) => i.path === 'relays[0].rules[0].when');
    expect(issue?.message).toMatch(/"sso" is not an alarm/);
    expect(issue?.message).toMatch(/sos/);
  });
  it('refuses thresholds on an alarm rule and a channel rule without one', () => {
    const r = validateGatewayConfig({
      ...base,
      relays: [
        {
          name: 'light',
          line: 'alarm.relay',
          rules: [
            { when: 'sos', above: 3 },
            { when: 'room.co2Ppm', holdS: 60 },
          ],
        },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((i) => i.path)).toEqual(
      expect.arrayContaining(['relays[0].rules[0].above', 'relays[0].rules[1]']),
    );
  });
  it('accepts alarm rules and channel rules with thresholds', () => {
    const r = validateGatewayConfig({
      ...base,
      relays: [
        {
          name: 'light',
          line: 'alarm.relay',
          rules: [
            { when: 'sos', holdS: 30 },
            { when: 'room.co2Ppm', above: 1200 },
          ],
        },
      ],
    });
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
