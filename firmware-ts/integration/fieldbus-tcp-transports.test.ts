// A profile written for RTU (the SDM630 lists only `rtu`) reached over the network, the two ways
// sites do it: through a Modbus TCP→RTU gateway, the unit id selecting the meter on its RS-485
// line, and through a serial server in transparent mode that carries RTU frames over TCP. The bench
// rig's TCP simulator plays both (real sockets); values are checked against what it serves.
import {
  loadCatalogue,
  ManualClock,
  type ModbusProfile,
  ModbusTcpServer,
  RegisterBank,
} from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import type { FieldbusConfig } from '../src/config/fieldbus.ts';
import { buildFieldbus } from '../src/fieldbus/from-config.ts';
import { FieldbusEngine, type FieldbusRecord, type ReadingRecord } from '../src/fieldbus/index.ts';
import { RealClock } from '../src/hal/index.ts';
import { recordingSink, sleep, until } from './fieldbus-support.ts';

const catalogue = loadCatalogue();
const sdm630 = catalogue.get('eastron-sdm630') as ModbusProfile;
const world = new ManualClock(Date.UTC(2026, 5, 1, 12, 0));

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

function configFor(port: number, transport: 'tcp-gateway' | 'rtu-over-tcp' | undefined) {
  return {
    buses: [
      {
        name: 'lan',
        type: 'tcp' as const,
        host: '127.0.0.1',
        port,
        maxInFlight: 1,
        connectTimeoutMs: 1000,
        driver: 'brana' as const,
        baud: 19_200,
      },
    ],
    devices: [3, 4].map((unit) => ({
      name: `sdm-${unit}`,
      bus: 'lan',
      unit,
      profile: 'eastron-sdm630',
      pollFastMs: 300,
      pollSlowMs: 3000,
      ...(transport ? { transport } : {}),
    })),
  } satisfies Pick<FieldbusConfig, 'buses' | 'devices'>;
}

async function pollFor(config: ReturnType<typeof configFor>, ms: number) {
  const { records, sink } = recordingSink();
  const { buses, devices } = buildFieldbus(config, catalogue);
  const engine = new FieldbusEngine(buses, devices, {
    clock: new RealClock(),
    sink,
  });
  engine.start();
  running.push(engine);
  await sleep(ms);
  return { engine, records, kind: buses[0]!.kind };
}

function expectServed(records: FieldbusRecord[], banks: Map<number, RegisterBank>): void {
  for (const [unit, bank] of banks) {
    const volts = records.filter(
      (r): r is ReadingRecord => r.kind === 'reading' && r.channel === `sdm-${unit}.voltageL1V`,
    );
    expect(volts.length).toBeGreaterThanOrEqual(3);
    // float32 on the wire: equal to the served value within its precision.
    expect(volts.at(-1)!.value).toBeCloseTo(Math.fround(bank.valueOf('voltageL1V') as number), 3);
  }
}

describe('an RTU profile over TCP', () => {
  it('without a transport it is refused, naming the device and both ways to reach it', () => {
    expect(() => buildFieldbus(configFor(502, undefined), catalogue)).toThrow(
      /devices\[0\]\.bus: profile "eastron-sdm630" cannot be reached over TCP\. Fix: set transport: tcp-gateway .* rtu-over-tcp/,
    );
  });

  it('through a Modbus TCP→RTU gateway, each meter at its unit id', async () => {
    const banks = new Map(
      [3, 4].map((unit) => [unit, new RegisterBank(sdm630, { clock: world, seed: unit })]),
    );
    const server = await ModbusTcpServer.start({
      port: 0,
      devices: [...banks].map(([unit, handler]) => ({ unit, handler })),
    });
    running.push(server);
    const { engine, records, kind } = await pollFor(configFor(server.port, 'tcp-gateway'), 1500);
    expect(kind).toBe('tcp');
    expect(engine.deviceStates()).toEqual({ 'sdm-3': 'online', 'sdm-4': 'online' });
    expectServed(records, banks);
  });

  it('through a serial server carrying RTU frames, one request at a time; a damaged frame is a CRC fault', async () => {
    const banks = new Map(
      [3, 4].map((unit) => [unit, new RegisterBank(sdm630, { clock: world, seed: unit })]),
    );
    const server = await ModbusTcpServer.start({
      port: 0,
      framing: 'rtu',
      devices: [...banks].map(([unit, handler]) => ({ unit, handler })),
    });
    running.push(server);
    server.injectFault(3, { kind: 'badCrc' });
    const { engine, records, kind } = await pollFor(configFor(server.port, 'rtu-over-tcp'), 1500);
    // The connection is the serial line behind the converter: one lane, its t3.5 at 19200 Bd.
    expect(kind).toBe('rtu');
    expect(engine.deviceStates()).toEqual({ 'sdm-3': 'online', 'sdm-4': 'online' });
    expectServed(records, banks);
    const crc = records.find((r) => r.kind === 'fault' && r.code === 'MODBUS_CRC');
    expect(crc).toMatchObject({
      device: 'sdm-3',
      message: expect.stringMatching(/CRC 0x[0-9a-f]{4} at byte \d+, expected/),
    });
    expect(server.stats.connections).toBe(1);
  });
});
