import { afterEach, describe, expect, it } from 'vitest';
import { MemoryWires } from '../bench/wires/memory-wires.ts';
import { TrafficControllerModel } from './traffic-controller.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let model: TrafficControllerModel | undefined;
let beat: ReturnType<typeof setInterval> | undefined;
afterEach(() => {
  model?.close();
  if (beat) clearInterval(beat);
});

function setup(deadmanMs = 40) {
  const wires = new MemoryWires();
  model = new TrafficControllerModel(wires, {
    approaches: [
      { id: 'north', output: 'relay-north', readback: 'rb-north' },
      { id: 'east', output: 'relay-east', readback: 'rb-east' },
    ],
    conflicts: { north: ['east'], east: ['north'] },
    heartbeat: 'heartbeat',
    deadmanMs,
  });
  let level: 0 | 1 = 0;
  beat = setInterval(() => {
    level = level === 0 ? 1 : 0;
    void wires.set('heartbeat', level);
  }, 5);
  return { wires, model };
}

describe('traffic controller model', () => {
  it('closes a contact while heartbeats come, mirrors it on the readback line', async () => {
    const { wires, model } = setup();
    await sleep(20);
    await wires.set('relay-north', 1);
    expect(model.isClosed('north')).toBe(true);
    await sleep(5);
    expect(await wires.read('rb-north')).toBe(1);
    await wires.set('relay-north', 0);
    expect(model.isClosed('north')).toBe(false);
    expect(model.violations).toEqual([]);
  });

  it('records two conflicting contacts closed at once', async () => {
    const { wires, model } = setup();
    await sleep(20);
    await wires.set('relay-north', 1);
    await wires.set('relay-east', 1);
    expect(model.violations.map((v) => v.kind)).toEqual(['conflict']);
  });

  it('the dead-man opens every contact when heartbeats stop, and no contact closes without them', async () => {
    const { wires, model } = setup(30);
    await sleep(20);
    await wires.set('relay-north', 1);
    clearInterval(beat);
    await model.waitFor(() => !model.isClosed('north'), 500, 'dead-man release');
    expect(model.deadmanTrips).toHaveLength(1);
    expect(model.changes.at(-1)).toMatchObject({ approach: 'north', closed: false, cause: 'deadman' });
    expect(await wires.read('rb-north')).toBe(0);
  });
});
