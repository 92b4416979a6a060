import {
  loadCatalogue,
  MemoryWires,
  startStrobe,
  TrafficControllerModel,
  udpLink,
  VehicleUnit,
} from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import {
  pointOnApproach,
  TEST_APPROACHES,
  TEST_INTERSECTION_ID,
  TEST_KEYS,
  testPreemptionDoc,
} from '../../test/support/rt-fixtures.ts';
import { type PreemptionConfig, preemptionSchema } from '../config/index.ts';
import { type GpioBackend, RealClock, WireGpio } from '../hal/index.ts';
import type { AgentRecord } from '../ipc/index.ts';
import { RingEventSink } from './event-sink.ts';
import { RtLoop } from './rt-loop.ts';

const cleanups: (() => unknown)[] = [];

/**
 * Events reach the sink in the loop's next cycle (after the outputs): collects what the sink got
 * until an event of `type` is among it.
 */
async function eventsUntil(events: RingEventSink, type: string, timeoutMs = 2000): Promise<AgentRecord[]> {
  const seen: AgentRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!seen.some((r) => r.kind === 'event' && r.type === type)) {
    if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
    seen.push(...events.take());
  }
  return seen;
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(extra: Record<string, unknown> = {}) {
  const doc: Record<string, unknown> = {
    ...testPreemptionDoc(),
    ...extra,
    inputs: { udp: { port: 0, host: '127.0.0.1' }, ...((extra.inputs as object) ?? {}) },
  };
  const config: PreemptionConfig = preemptionSchema.parse(doc);
  const wires = new MemoryWires();
  const model = new TrafficControllerModel(wires, {
    approaches: config.approaches.map((a) => ({
      id: a.id,
      output: a.output,
      ...(a.readback ? { readback: a.readback } : {}),
    })),
    conflicts: config.conflicts,
    heartbeat: config.heartbeat.output,
    deadmanMs: 60,
  });
  const clock = new RealClock();
  const events = new RingEventSink(10_000);
  const loop = await RtLoop.start({
    config,
    gpio: new WireGpio(wires, { clock, kind: 'memory' }),
    clock,
    events,
    catalogue: loadCatalogue(),
  });
  cleanups.push(
    () => model.close(),
    () => loop.stop(),
  );
  const link = udpLink(loop.udpPort!);
  cleanups.push(() => link.close());
  return { loop, model, events, link, wires, config };
}

function unit(key = TEST_KEYS.ambulance, vehicleId = 1, role: 'ambulance' | 'transit' = 'ambulance') {
  return new VehicleUnit({
    privateKey: key.privateKey,
    vehicleId,
    role,
    intersectionId: TEST_INTERSECTION_ID,
  });
}

const at = (approach: number, etaS = 5) => ({
  inbound: approach,
  etaS,
  headingDeg: TEST_APPROACHES[approach - 1]!.headingDeg,
  speedMps: 12,
  ...pointOnApproach(approach, 200),
});

describe('rt loop (in process, memory wires, real UDP socket)', () => {
  it('keeps outputs off until self-test, then asserts on a signed request and releases on cancel', async () => {
    const { loop, model, events, link } = await start();
    const amb = unit();
    await link.send(amb.frame('request', at(1)));
    await new Promise((r) => setTimeout(r, 20));
    expect(model.closedApproaches()).toEqual([]); // still in self-test
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    await link.send(amb.frame('update', at(1)));
    await model.waitFor(() => model.isClosed('north'), 2000, 'north asserted');
    await link.send(amb.frame('cancel', at(1, 0)));
    await model.waitFor(() => !model.isClosed('north'), 2000, 'north released');
    const types = (await eventsUntil(events, 'preemption.released')).flatMap((r) =>
      r.kind === 'event' ? [r.type] : [],
    );
    expect(types).toContain('preemption.ready');
    expect(types).toContain('preemption.asserted');
    expect(types).toContain('preemption.released');
    expect(model.violations).toEqual([]);
  });

  it('rejects a forged frame with its reason and asserts nothing', async () => {
    const { loop, model, events, link } = await start();
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    const forged = unit(TEST_KEYS.stranger).frame('request', at(1));
    await link.send(forged);
    await model.waitFor(() => loop.stats().rejected.signature === 1, 2000, 'rejection');
    expect(model.closedApproaches()).toEqual([]);
    const rejected = (await eventsUntil(events, 'preemption.rejected')).find(
      (r) => r.kind === 'event' && r.type === 'preemption.rejected',
    );
    expect(rejected).toMatchObject({ data: { reason: 'signature', input: 'udp' } });
  });

  it('a stuck readback contact is a fault that switches everything off', async () => {
    const { loop, model, wires, link } = await start();
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    model.close(); // the model stops mirroring contacts: readbacks stay 0 while the output goes 1
    await link.send(unit().frame('request', at(1)));
    await model.waitFor(() => loop.stats().mode === 'fault', 2000, 'readback fault');
    expect(await wires.read('relay-north')).toBe(0);
  });
});

describe('rt loop: optical detector and test contact', () => {
  it('an emergency strobe on the optical input asserts its approach; when it stops, the approach is released', async () => {
    const { loop, model, wires } = await start({
      inputs: { optical: [{ line: 'optical-south', approach: 'south', accept: ['emergency'] }] },
    });
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    const strobe = startStrobe(wires, 'optical-south', { hz: 14.035, pulses: 12, pulseMs: 5 });
    await model.waitFor(() => model.isClosed('south'), 3000, 'south asserted by the strobe');
    await strobe.done;
    await model.waitFor(() => !model.isClosed('south'), 3000, 'south released after the strobe');
    expect(model.violations).toEqual([]);
  });

  it('a transit strobe is ignored when the config accepts only emergency', async () => {
    const { loop, model, wires } = await start({
      inputs: { optical: [{ line: 'optical-south', approach: 'south', accept: ['emergency'] }] },
    });
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    const strobe = startStrobe(wires, 'optical-south', { hz: 9.639, pulses: 10, pulseMs: 5 });
    await strobe.done;
    expect(model.changes.filter((c) => c.closed)).toEqual([]);
  });

  it('a held test contact keeps its approach asserted past the update timeout, and releases when opened', async () => {
    const { loop, model, wires } = await start({
      timing: { minGapS: 0, selfTestMs: 50, updateTimeoutS: 1 },
      inputs: { testContact: { line: 'test-contact', approach: 'east' } },
    });
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    await wires.set('test-contact', 1);
    await model.waitFor(() => model.isClosed('east'), 2000, 'east asserted by the test contact');
    await new Promise((r) => setTimeout(r, 1500));
    expect(model.isClosed('east')).toBe(true);
    await wires.set('test-contact', 0);
    await model.waitFor(() => !model.isClosed('east'), 2000, 'east released');
  });
});

describe('rt loop: an output that cannot be driven', () => {
  it('is a system fault: the loop stops asserting anything', async () => {
    const wires = new MemoryWires();
    const clock = new RealClock();
    const real = new WireGpio(wires, { clock, kind: 'memory' });
    // Failure injection around the real backend: the north relay driver refuses to switch on.
    const gpio: GpioBackend = {
      kind: 'memory',
      openInput: (line, o) => real.openInput(line, o),
      openOutput: async (line, o) => {
        const out = await real.openOutput(line, o);
        if (line !== 'relay-north') return out;
        return {
          name: out.name,
          read: () => out.read(),
          close: () => out.close(),
          write: (level) => {
            if (level === 1) throw new Error('relay driver over-current');
            out.write(level);
          },
        };
      },
      close: () => real.close(),
    };
    const config = preemptionSchema.parse({
      ...testPreemptionDoc(),
      inputs: { udp: { port: 0, host: '127.0.0.1' } },
    });
    const model = new TrafficControllerModel(wires, {
      approaches: config.approaches.map((a) => ({ id: a.id, output: a.output, readback: a.readback! })),
      conflicts: config.conflicts,
      heartbeat: config.heartbeat.output,
      deadmanMs: 60,
    });
    const events = new RingEventSink(1000);
    const loop = await RtLoop.start({ config, gpio, clock, events });
    const link = udpLink(loop.udpPort!);
    cleanups.push(
      () => model.close(),
      () => loop.stop(),
      () => link.close(),
    );
    await model.waitFor(() => loop.stats().mode === 'running', 2000, 'self-test');
    await link.send(unit().frame('request', at(1)));
    await model.waitFor(() => loop.stats().mode === 'fault', 2000, 'system fault');
    const fault = (await eventsUntil(events, 'preemption.fault')).find(
      (r) => r.kind === 'event' && r.type === 'preemption.fault',
    );
    expect(fault).toMatchObject({
      data: { approach: 'system', reason: expect.stringMatching(/over-current/) },
    });
    await link.send(unit(TEST_KEYS.ambulance2, 2).frame('request', at(3)));
    await new Promise((r) => setTimeout(r, 100));
    expect(model.closedApproaches()).toEqual([]);
  });
});
