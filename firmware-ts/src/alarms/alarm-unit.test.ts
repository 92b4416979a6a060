import { MemoryWires } from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import { validateGatewayConfig } from '../config/index.ts';
import { type GpioBackend, VirtualClock, WireGpio } from '../hal/index.ts';
import type { IpcEvent } from '../ipc/index.ts';
import { AlarmUnit } from './alarm-unit.ts';

const stops: (() => Promise<void>)[] = [];

/** The line's level once the output's write (asynchronous on the bench bus) has landed. */
async function level(wires: MemoryWires, line: string): Promise<0 | 1> {
  await new Promise((r) => setImmediate(r));
  return wires.readNow(line);
}
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function careHome(extra: Record<string, unknown> = {}) {
  const r = validateGatewayConfig({
    name: 'care home',
    alarms: [
      { name: 'sos', kind: 'sos', line: 'sos.button', debounceMs: 50 },
      { name: 'bed', kind: 'bed', line: 'bed.mat', activeLevel: 0, debounceMs: 20 },
    ],
    relays: [
      { name: 'light', line: 'alarm.relay', rules: [{ when: 'sos', holdS: 30 }] },
      { name: 'nurse', line: 'nurse.relay', rules: [{ when: 'bed' }, { when: 'room.co2Ppm', above: 1500 }] },
    ],
    ...extra,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

async function rig(initial: Record<string, 0 | 1> = { 'bed.mat': 1 }) {
  const clock = new VirtualClock();
  const wires = new MemoryWires();
  for (const [line, level] of Object.entries(initial)) wires.setAt(line, level, clock.monotonicNs());
  const gpio: GpioBackend = new WireGpio(wires, { clock, kind: 'memory' });
  const events: IpcEvent[] = [];
  const unit = await AlarmUnit.start({
    config: careHome(),
    gpio,
    clock,
    emit: (e) => {
      events.push(e);
      return true;
    },
  });
  stops.push(() => unit.stop());
  const press = (line: string, level: 0 | 1) => wires.setAt(line, level, clock.monotonicNs());
  return { clock, wires, unit, events, press };
}

describe('AlarmUnit', () => {
  it('raises the SOS alarm after its debounce, lights the relay, and holds it 30 s after release', async () => {
    const { clock, wires, unit, events, press } = await rig();
    expect(await level(wires, 'alarm.relay')).toBe(0);
    press('sos.button', 1);
    clock.advance(49);
    expect(await level(wires, 'alarm.relay')).toBe(0); // still bouncing for all it knows
    clock.advance(1);
    expect(await level(wires, 'alarm.relay')).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['alarm.raised', 'relay.switched']);
    expect(events[0]).toMatchObject({
      safety: true,
      severity: 'critical',
      data: { alarm: 'sos', alarmKind: 'sos' },
    });
    press('sos.button', 0);
    clock.advance(50);
    expect(unit.alarmActive('sos')).toBe(false);
    clock.advance(29_999);
    expect(await level(wires, 'alarm.relay')).toBe(1);
    clock.advance(1);
    expect(await level(wires, 'alarm.relay')).toBe(0);
    expect(events.map((e) => e.type)).toEqual([
      'alarm.raised',
      'relay.switched',
      'alarm.cleared',
      'relay.switched',
    ]);
    expect(unit.stats()).toEqual({ alarmsRaised: 1, relaySwitches: 2, relayFaults: 0 });
  });

  it('ignores a bounce shorter than the debounce', async () => {
    const { clock, wires, events, press } = await rig();
    press('sos.button', 1);
    clock.advance(20);
    press('sos.button', 0);
    clock.advance(200);
    expect(await level(wires, 'alarm.relay')).toBe(0);
    expect(events).toEqual([]);
  });

  it('reads an active-low bed mat, and switches on a channel reading above its threshold', async () => {
    const { clock, wires, unit, press } = await rig();
    press('bed.mat', 0); // the mat pulls its line low when the resident leaves the bed
    clock.advance(20);
    expect(unit.alarmActive('bed')).toBe(true);
    expect(await level(wires, 'nurse.relay')).toBe(1);
    press('bed.mat', 1);
    clock.advance(20);
    expect(await level(wires, 'nurse.relay')).toBe(0);
    expect(unit.channels).toEqual(['room.co2Ppm']);
    unit.value('room.co2Ppm', 1600);
    expect(await level(wires, 'nurse.relay')).toBe(1);
    unit.value('other.thing', 0);
    unit.value('room.co2Ppm', 900);
    expect(await level(wires, 'nurse.relay')).toBe(0);
  });

  it('raises an alarm that is already active when it starts', async () => {
    const { wires, unit, events } = await rig({ 'bed.mat': 1, 'sos.button': 1 });
    expect(unit.alarmActive('sos')).toBe(true);
    expect(await level(wires, 'alarm.relay')).toBe(1);
    expect(events.some((e) => e.type === 'alarm.raised')).toBe(true);
  });

  it('switches every relay off when it stops', async () => {
    const { clock, wires, unit, press } = await rig();
    press('sos.button', 1);
    clock.advance(50);
    expect(await level(wires, 'alarm.relay')).toBe(1);
    await unit.stop();
    expect(await level(wires, 'alarm.relay')).toBe(0);
  });
});
