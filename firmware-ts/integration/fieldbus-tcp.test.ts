// Modbus TCP: one lane per unit id behind one gateway address, at most maxInFlight requests at once,
// values decoded as the simulator serves them; a unit that never answers goes offline alone.
import {
  loadCatalogue,
  ManualClock,
  type ModbusProfile,
  ModbusTcpServer,
  RegisterBank,
} from '@brana/hardware';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFieldbus } from '../src/fieldbus/from-config.ts';
import { FieldbusEngine, type FieldbusRecord, type ReadingRecord } from '../src/fieldbus/index.ts';
import { RealClock } from '../src/hal/index.ts';

const catalogue = loadCatalogue();
const em24 = catalogue.get('carlo-gavazzi-em24') as ModbusProfile;
const world = new ManualClock(Date.UTC(2026, 5, 1, 12, 0));
let server: ModbusTcpServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('fieldbus over Modbus TCP', () => {
  it('polls three units through one gateway with up to two in flight; a missing unit goes offline alone', async () => {
    const banks = [1, 2, 3].map((unit) => ({
      unit,
      handler: new RegisterBank(em24, { clock: world, seed: unit }),
    }));
    server = await ModbusTcpServer.start({ port: 0, devices: banks });
    const records: FieldbusRecord[] = [];
    const { buses, devices } = buildFieldbus(
      {
        buses: [
          {
            name: 'lan',
            type: 'tcp',
            host: '127.0.0.1',
            port: server.port,
            maxInFlight: 2,
            connectTimeoutMs: 3000,
            driver: 'brana',
          },
        ],
        devices: [1, 2, 3, 4].map((unit) => ({
          name: `em24-${unit}`,
          bus: 'lan',
          unit,
          profile: 'carlo-gavazzi-em24',
          pollFastMs: 200,
          pollSlowMs: 1000,
        })),
      },
      catalogue,
    );
    const engine = new FieldbusEngine(buses, devices, {
      clock: new RealClock(),
      sink: {
        send: (r) => {
          records.push(r);
          return true;
        },
      },
      retries: 0,
      offlineAfter: 2,
    });
    engine.start();
    const deadline = Date.now() + 15_000;
    const offline = () => records.some((r) => r.kind === 'device-status' && r.state === 'offline');
    while (!offline() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 600));
    await engine.stop();

    expect(engine.deviceStates()).toEqual({
      'em24-1': 'online',
      'em24-2': 'online',
      'em24-3': 'online',
      'em24-4': 'offline',
    });
    for (const { unit, handler } of banks) {
      const powers = records.filter(
        (r): r is ReadingRecord => r.kind === 'reading' && r.channel === `em24-${unit}.powerW`,
      );
      expect(powers.length).toBeGreaterThanOrEqual(3);
      const point = em24.points.find((p) => p.key === 'powerW')!;
      expect(
        Math.abs((powers[0]!.value as number) - (handler.valueOf('powerW') as number)),
      ).toBeLessThanOrEqual(Math.abs(point.scale) / 2 + 1e-9);
    }
  }, 30_000);
});
