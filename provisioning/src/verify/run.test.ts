import {
  type GatewayConfig,
  type GpioBackend,
  gatewayConfigSchema,
  MemoryModbusClient,
  RealClock,
  WireGpio,
} from '@brana/firmware';
import { loadCatalogue, MemoryWires } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { planVerify } from './plan.ts';
import { runVerify, type VerifyIo } from './run.ts';

const catalogue = loadCatalogue();
const clock = new RealClock();
const OUTPUT_LINES = ['relay.1', 'relay.2', 'out.n'];

const config: GatewayConfig = gatewayConfigSchema.parse({
  name: 'x',
  buses: [{ name: 'rs', type: 'rtu', path: '/dev/null' }],
  devices: [
    { name: 'meter', bus: 'rs', unit: 1, profile: 'eastron-sdm120' },
    { name: 'noisy', bus: 'rs', unit: 2, profile: 'eastron-sdm120' },
  ],
  alarms: [{ name: 'door', line: 'in.door', activeLevel: 0 }],
  relays: [
    { name: 'r1', line: 'relay.1' },
    { name: 'r2', line: 'relay.2' },
  ],
  preemption: {
    intersectionId: 1,
    approaches: [{ id: 'n', number: 1, output: 'out.n', readback: 'rb.n' }],
    conflicts: { n: [] },
    heartbeat: { output: 'hb' },
  },
});

function rig() {
  const wires = new MemoryWires();
  for (const l of [...OUTPUT_LINES, 'rb.n', 'in.door', 'hb']) wires.set(l, 0);
  wires.onEdge('out.n', (level) => wires.set('rb.n', level));
  const edges: string[] = [];
  for (const l of OUTPUT_LINES) wires.onEdge(l, (level) => edges.push(`${l}=${level}`));
  const inner = new WireGpio(wires, { clock, kind: 'memory' });
  // relay.2's driver fails when switched on, as a GPIO write can.
  const gpio: GpioBackend = {
    kind: 'memory',
    openInput: (line, o) => inner.openInput(line, o),
    async openOutput(line, o) {
      const out = await inner.openOutput(line, o);
      if (line !== 'relay.2') return out;
      return {
        name: out.name,
        read: () => out.read(),
        close: () => out.close(),
        write(level) {
          if (level === 1) throw new Error('GPIO relay.2: write failed (EIO)');
          out.write(level);
        },
      };
    },
    close: () => inner.close(),
  };
  const bus = new MemoryModbusClient(clock, 1, 50);
  const meter = bus.device(1);
  meter.input.set(0, 0x4366); // 230.0 V as float32, most significant word first
  meter.input.set(1, 0x0000);
  bus.device(2).fault = 'crc';
  const io: VerifyIo = { gpio, gpioKind: 'bench', connectBus: async () => bus };
  return { wires, edges, io };
}

async function levels(wires: MemoryWires): Promise<number[]> {
  return Promise.all(OUTPUT_LINES.map((l) => wires.read(l)));
}

describe('runVerify', () => {
  it('keeps going after an output fails, leaves every output off, and reports each device', async () => {
    const { wires, edges, io } = rig();
    const report = await runVerify(planVerify(config, catalogue), config, catalogue, io, {
      outputs: true,
      pulseMs: 10,
      settleMs: 50,
    });
    expect(report.inputs).toMatchObject([{ name: 'door', level: 1, result: 'active' }]); // active low, line at 0
    expect(report.outputs.map((o) => [o.name, o.result])).toEqual([
      ['r1', 'pulsed'],
      ['r2', 'error'],
      ['n', 'ok'],
    ]);
    expect(report.outputs[1]!.detail).toContain('EIO');
    expect(report.devices.map((d) => [d.device, d.result])).toEqual([
      ['meter', 'answer'],
      ['noisy', 'error'],
    ]);
    expect(report.devices[0]!.value).toBe(230);
    expect(report.ok).toBe(false);
    expect(await levels(wires)).toEqual([0, 0, 0]);
    expect(edges.filter((e) => e.endsWith('=1'))).toEqual(['relay.1=1', 'out.n=1']);
  });

  it('does not touch an output without --outputs', async () => {
    const { edges, io } = rig();
    const report = await runVerify(planVerify(config, catalogue), config, catalogue, io, {
      outputs: false,
      pulseMs: 10,
      settleMs: 50,
    });
    expect(report.outputs.every((o) => o.result === 'skipped')).toBe(true);
    expect(edges).toEqual([]);
  });

  it('stops on abort during a pulse: that output off at once, the rest skipped', async () => {
    const { wires, io } = rig();
    const controller = new AbortController();
    wires.onEdge('relay.1', (level) => level === 1 && setTimeout(() => controller.abort(), 5));
    const started = performance.now();
    const report = await runVerify(planVerify(config, catalogue), config, catalogue, io, {
      outputs: true,
      pulseMs: 5_000,
      settleMs: 50,
      signal: controller.signal,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(report.interrupted).toBe(true);
    expect(report.ok).toBe(false);
    expect(report.outputs.map((o) => o.detail)).toEqual([
      'interrupted during its pulse; switched off',
      'interrupted',
      'interrupted',
    ]);
    expect(report.devices.every((d) => d.result === 'skipped')).toBe(true);
    expect(await levels(wires)).toEqual([0, 0, 0]);
  });
});
