import { encodeSignedFrame, MemoryWires } from '@brana/hardware';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  pointOnApproach,
  TEST_APPROACHES,
  TEST_INTERSECTION_ID,
  TEST_KEYS,
  testPreemptionDoc,
} from '../../test/support/rt-fixtures.ts';
import { type GatewayConfig, validateGatewayConfig } from '../config/index.ts';
import { type SerialPort, VirtualClock, WireGpio } from '../hal/index.ts';
import type { CommandReply, IpcEvent } from '../ipc/index.ts';
import { RingEventSink } from '../rt/event-sink.ts';
import { RtLoop } from '../rt/rt-loop.ts';
import { AlarmUnit } from './alarm-unit.ts';
import { RelayCommands } from './relay-commands.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** An intersection cabinet that also has an SOS input, a rules relay and two relays for flows. */
function cabinetConfig(): GatewayConfig {
  const doc = testPreemptionDoc();
  const r = validateGatewayConfig({
    name: 'cabinet',
    preemption: {
      ...doc,
      // No readbacks: nothing on the memory bus would follow the outputs.
      approaches: doc.approaches.map(({ readback: _, ...a }) => a),
      inputs: { radio: { path: 'memory:radio' } },
    },
    alarms: [{ name: 'sos', line: 'sos.line', debounceMs: 0 }],
    relays: [
      { name: 'light', line: 'light.relay', rules: [{ when: 'sos', holdS: 2 }] },
      { name: 'fan', line: 'fan.relay', owner: 'flows' },
      { name: 'pump', line: 'pump.relay', owner: 'flows', activeLevel: 0 },
    ],
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** A radio receiver the test feeds directly (the loop decodes whatever arrives). */
class PushRadio implements SerialPort {
  readonly path = 'memory:radio';
  readonly settings = { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 } as SerialPort['settings'];
  isOpen = false;
  #listener: ((b: Buffer) => void) | undefined;
  async open() {
    this.isOpen = true;
  }
  async close() {
    this.isOpen = false;
  }
  async write() {}
  async drain() {}
  onData(l: (b: Buffer) => void) {
    this.#listener = l;
    return () => {
      this.#listener = undefined;
    };
  }
  onClose() {
    return () => {};
  }
  push(b: Buffer) {
    this.#listener?.(b);
  }
}

/** The rt process's parts as rt-command wires them: loop, alarm unit, and the command gate. */
async function rig(config = cabinetConfig()) {
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 5, 1, 8) });
  const wires = new MemoryWires();
  const gpio = new WireGpio(wires, { clock, kind: 'memory' });
  const radio = new PushRadio();
  const events: IpcEvent[] = [];
  const sink = new RingEventSink(100_000);
  const loop = await RtLoop.start({ config: config.preemption!, gpio, clock, events: sink, radio });
  const unit = await AlarmUnit.start({
    config,
    gpio,
    clock,
    emit: (e) => {
      events.push(e);
      return true;
    },
  });
  stops.push(
    () => loop.stop(),
    () => unit.stop(),
  );
  const gate = new RelayCommands({
    relays: config.relays,
    alarms: config.alarms,
    preemption: config.preemption!,
    target: () => unit,
    clock,
  });
  // The self-test (50 ms in the fixture) must pass before anything can be asserted.
  clock.advance(60);
  return { clock, wires, radio, loop, unit, gate, events, sink, config };
}

const settle = () => new Promise((r) => setImmediate(r));

let nextId = 0;
const cmd = (relay: string, on: boolean, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: ++nextId, op: 'relay.set', relay, on, by: { kind: 'flow', node: 'n1' }, ...extra });

describe('RelayCommands: the rt side of a flow switching a relay', () => {
  it('switches a relay owned by flows, reports changed, and sends relay.switched with who asked', async () => {
    const { gate, wires, events } = await rig();
    const r = gate.handle(cmd('fan', true), 1);
    expect(r).toEqual({ id: nextId, ok: true, relay: 'fan', on: true, changed: true });
    await settle();
    expect(wires.readNow('fan.relay')).toBe(1);
    expect(events.at(-1)).toMatchObject({
      type: 'relay.switched',
      data: { relay: 'fan', on: true, by: { kind: 'flow', node: 'n1' } },
    });
    // The same level again is no switch and no event.
    expect(gate.handle(cmd('fan', true), 1)).toMatchObject({ ok: true, changed: false });
    expect(events.filter((e) => e.type === 'relay.switched')).toHaveLength(1);
    // An active-low relay: on drives its line low.
    gate.handle(cmd('pump', true), 1);
    await settle();
    expect(wires.readNow('pump.relay')).toBe(0);
  });

  it('refuses a relay owned by rules, any preemption line, the heartbeat and the alarm input as not-owned', async () => {
    const { gate, wires, loop } = await rig();
    for (const name of ['light', 'north', 'relay-north', 'heartbeat', 'sos', 'sos.line']) {
      const r = gate.handle(cmd(name, true), 1) as Extract<CommandReply, { ok: false }>;
      expect(r.code, name).toBe('not-owned');
      expect(r.message).toMatch(/"fan", "pump"|rules/);
    }
    await settle();
    expect(wires.readNow('light.relay')).toBe(0);
    expect(wires.readNow('relay-north')).toBe(0);
    expect(loop.stats().phases).toEqual(['idle', 'idle', 'idle', 'idle']);
    expect(gate.stats().refused['not-owned']).toBe(6);
  });

  it('refuses an unknown relay, listing what flows may switch', () => {
    return rig().then(({ gate }) => {
      const r = gate.handle(cmd('boiler', true), 1);
      expect(r).toMatchObject({ ok: false, code: 'unknown-relay' });
      expect((r as { message: string }).message).toBe(
        `this gateway's config has no relay "boiler"; relays flows may switch: "fan", "pump"`,
      );
    });
  });

  it('refuses ids that do not rise on a connection, and starts over on a new connection', async () => {
    const { gate } = await rig();
    const body = (id: number) =>
      JSON.stringify({ id, op: 'relay.set', relay: 'fan', on: true, by: { kind: 'flow' } });
    expect(gate.handle(body(5), 1)).toMatchObject({ ok: true });
    expect(gate.handle(body(5), 1)).toMatchObject({ ok: false, code: 'bad-command' });
    expect(gate.handle(body(4), 1)).toMatchObject({ ok: false, code: 'bad-command' });
    expect(gate.handle(body(1), 2)).toMatchObject({ ok: true });
  });

  it('limits switches of one relay (contacts wear) and all commands together, counting refusals', async () => {
    const { gate, clock } = await rig();
    let on = false;
    const replies: CommandReply[] = [];
    for (let i = 0; i < 12; i++) {
      on = !on;
      replies.push(gate.handle(cmd('fan', on), 1));
    }
    expect(replies.filter((r) => r.ok && r.changed)).toHaveLength(10);
    const limited = replies[10] as { code: string; message: string };
    expect(limited.code).toBe('rate-limited');
    expect(limited.message).toMatch(/at most 6 switches a minute/);
    // Ten seconds give one more switch (6 a minute).
    // The last refused switch left the relay off: asking off again costs nothing, asking on takes it.
    expect(replies[11]).toMatchObject({ ok: true, changed: false });
    expect(gate.handle(cmd('fan', true), 1)).toMatchObject({ ok: false, code: 'rate-limited' });
    clock.advance(10_000);
    expect(gate.handle(cmd('fan', true), 1)).toMatchObject({ ok: true, changed: true });
    // The global limit refuses before parsing anything.
    const flood = Array.from({ length: 150 }, () => gate.handle('garbage', 1));
    expect(flood.filter((r) => !r.ok && r.code === 'rate-limited').length).toBeGreaterThanOrEqual(50);
    const s = gate.stats();
    expect(s.refused['rate-limited']).toBeGreaterThanOrEqual(52);
    expect(s.refused['bad-command']).toBeGreaterThan(0);
  });

  it('answers not-ready before the relays are open', () => {
    const config = cabinetConfig();
    const gate = new RelayCommands({
      relays: config.relays,
      target: () => undefined,
      clock: new VirtualClock(),
    });
    expect(gate.handle(cmd('fan', true), 1)).toMatchObject({ ok: false, code: 'not-ready' });
  });
});

// Every line that is not a relay owned by flows: what a command must never move.
const GUARDED_LINES = ['relay-north', 'relay-east', 'relay-south', 'relay-west', 'heartbeat', 'light.relay'];
const CONFLICTS: [string, string][] = [
  ['relay-north', 'relay-east'],
  ['relay-north', 'relay-west'],
  ['relay-south', 'relay-east'],
  ['relay-south', 'relay-west'],
];

type Action =
  | { kind: 'command'; body: string }
  | { kind: 'alarm'; active: boolean }
  | {
      kind: 'frame';
      approach: number;
      type: 'request' | 'update' | 'cancel';
      vehicle: number;
      emergency: boolean;
    }
  | { kind: 'advance'; ms: number };

const NAMES = [
  'fan',
  'pump',
  'light',
  'north',
  'relay-north',
  'relay-east',
  'heartbeat',
  'sos',
  'sos.line',
  'rb-north',
  'nope',
  '',
];

const commandBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      relay: fc.constantFrom(...NAMES),
      on: fc.boolean(),
      idDelta: fc.integer({ min: -2, max: 3 }),
      extra: fc.constantFrom(
        {},
        { owner: 'flows' },
        { by: { kind: 'rules' } },
        { op: 'relay.force' },
        { on: 1 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => ({ raw: s })) },
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: commandBody.map((b): Action => ({ kind: 'command', body: JSON.stringify(b) })) },
  { weight: 2, arbitrary: fc.boolean().map((active): Action => ({ kind: 'alarm', active })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        approach: fc.integer({ min: 1, max: 4 }),
        type: fc.constantFrom('request', 'update', 'cancel'),
        vehicle: fc.integer({ min: 1, max: 3 }),
        emergency: fc.boolean(),
      })
      .map((f): Action => ({ kind: 'frame', ...f }) as Action),
  },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3000 }).map((ms): Action => ({ kind: 'advance', ms })) },
);

describe('no sequence of flow commands moves anything but a relay owned by flows', () => {
  it('property: every guarded line follows exactly what it would without the commands; flows relays follow the accepted commands; conflicting approaches are never both asserted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
        // Rig A takes the commands; rig B gets every other input the same and no command at all.
        const a = await rig();
        const b = await rig();
        const counters = new Map<number, number>();
        let id = 0;
        const expectedFlows: Record<string, 0 | 1> = { 'fan.relay': 0, 'pump.relay': 1 };
        for (const act of actions) {
          if (act.kind === 'command') {
            const spec = JSON.parse(act.body) as
              | { raw: string }
              | { relay: string; on: boolean; idDelta: number; extra: Record<string, unknown> };
            let body: string;
            if ('raw' in spec) body = spec.raw;
            else {
              id = Math.max(1, id + spec.idDelta);
              body = JSON.stringify({
                id,
                op: 'relay.set',
                relay: spec.relay,
                on: spec.on,
                by: { kind: 'flow' },
                ...spec.extra,
              });
            }
            const r = a.gate.handle(body, 1);
            if (r.ok) {
              expect(['fan', 'pump']).toContain(r.relay);
              const line = `${r.relay}.relay`;
              // pump is active-low.
              expectedFlows[line] = (r.on ? 1 : 0) ^ (r.relay === 'pump' ? 1 : 0) ? 1 : 0;
            }
          } else if (act.kind === 'alarm') {
            for (const x of [a, b]) x.wires.setAt('sos.line', act.active ? 1 : 0, x.clock.monotonicNs());
          } else if (act.kind === 'frame') {
            const key = act.emergency ? TEST_KEYS.ambulance : TEST_KEYS.bus;
            const vehicleId = act.vehicle + (act.emergency ? 0 : 100);
            const counter = (counters.get(vehicleId) ?? 0) + 1;
            counters.set(vehicleId, counter);
            const ap = TEST_APPROACHES[act.approach - 1]!;
            const frame = encodeSignedFrame(
              {
                type: act.type,
                role: act.emergency ? 'ambulance' : 'transit',
                importance: act.emergency ? 14 : 4,
                inbound: act.approach,
                outbound: 0,
                requestId: 1,
                counter,
                intersectionId: TEST_INTERSECTION_ID,
                vehicleId,
                etaS: 3,
                ...pointOnApproach(act.approach, 150),
                headingDeg: ap.headingDeg,
                speedMps: 10,
                generatedMs: a.clock.nowMs(),
              },
              key.privateKey,
            );
            a.radio.push(frame);
            b.radio.push(frame);
          } else {
            a.clock.advance(act.ms);
            b.clock.advance(act.ms);
          }
          await settle();
          for (const line of GUARDED_LINES) {
            expect(a.wires.readNow(line), `${line} after ${JSON.stringify(act)}`).toBe(b.wires.readNow(line));
          }
          for (const [line, level] of Object.entries(expectedFlows))
            expect(a.wires.readNow(line)).toBe(level);
          for (const [x, y] of CONFLICTS) {
            expect(a.wires.readNow(x) === 1 && a.wires.readNow(y) === 1, `${x} and ${y} together`).toBe(
              false,
            );
          }
          expect(a.loop.stats().phases).toEqual(b.loop.stats().phases);
        }
        for (const s of stops.splice(0).reverse()) await s();
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
