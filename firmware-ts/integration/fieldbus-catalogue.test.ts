// Every Modbus profile in the catalogue, each a simulated device on ONE emulated-timing RTU line
// (a socat pty), polled by the real engine through modbus-serial: every decoded value must equal
// what the simulator serves. The simulated world's clock stands still, so "what it serves" is one
// fixed value per point.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, ManualClock, type ModbusProfile, RegisterBank, RtuSlave } from '@brana/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFieldbus } from '../src/fieldbus/from-config.ts';
import { FieldbusEngine, type FieldbusRecord, type ReadingRecord } from '../src/fieldbus/index.ts';
import { RealClock } from '../src/hal/index.ts';

const BAUD = 38_400;
const catalogue = loadCatalogue();
const profiles = [...catalogue.values()].filter(
  (p): p is ModbusProfile => p.kind === 'modbus' && p.bus.transports.includes('rtu'),
);
const world = new ManualClock(Date.UTC(2026, 5, 1, 10, 0));
const banks = new Map(profiles.map((p, i) => [i + 1, new RegisterBank(p, { clock: world, seed: 7 })]));

let dir: string;
let slave: RtuSlave;
const records: FieldbusRecord[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-fieldbus-cat-'));
  slave = await RtuSlave.start({
    dir,
    name: 'ttyCAT0',
    baud: BAUD,
    // Each device ignores a request inside its profile's inter-frame delay, so a poller that
    // interleaves devices wrongly shows up as timeout faults below.
    devices: [...banks].map(([unit, handler]) => ({
      unit,
      handler,
      turnaroundMs: [2, 4] as const,
      interFrameDelayMs: profiles[unit - 1]!.bus.interFrameDelayMs,
    })),
  });
  const { buses, devices } = buildFieldbus(
    {
      buses: [
        {
          name: 'line',
          type: 'rtu',
          path: slave.clientPath,
          baud: BAUD,
          parity: 'none',
          stopBits: 1,
          dataBits: 8,
          driver: 'modbus-serial',
        },
      ],
      devices: profiles.map((p, i) => ({
        name: p.id,
        bus: 'line',
        unit: i + 1,
        profile: p.id,
        pollFastMs: 60_000,
        pollSlowMs: 60_000,
      })),
    },
    catalogue,
  );
  // This test is about decoding, not timing: the simulator runs in this worker and the machine
  // is shared, so an answer may come late. A generous per-request timeout keeps a scheduling stall
  // from turning into a timeout fault; any fault at all still fails the test below.
  const patient = devices.map((d) => ({
    ...d,
    profile: { ...d.profile, bus: { ...d.profile.bus, timeoutMs: Math.max(d.profile.bus.timeoutMs, 3000) } },
  }));
  const engine = new FieldbusEngine(buses, patient, {
    clock: new RealClock(),
    sink: {
      send: (r) => {
        records.push(r);
        return true;
      },
    },
  });
  engine.start();
  // Every device has been polled once (all poll classes are due at start).
  const want = profiles.reduce((n, p) => n + p.points.length, 0);
  const deadline = Date.now() + 20_000;
  while (records.filter((r) => r.kind === 'reading').length < want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await engine.stop();
}, 30_000);

afterAll(async () => {
  await slave?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('every Modbus profile of the catalogue over an RTU pty', () => {
  it('has profiles to poll', () => {
    expect(profiles.length).toBeGreaterThanOrEqual(5);
    const faults = records.filter((r) => r.kind === 'fault');
    expect(faults, JSON.stringify(faults)).toEqual([]);
  });

  for (const [index, profile] of profiles.entries()) {
    it(`${profile.id}: each of ${profile.points.length} points decodes to the served value`, () => {
      const bank = banks.get(index + 1)!;
      for (const point of profile.points) {
        const got = records.find(
          (r): r is ReadingRecord => r.kind === 'reading' && r.channel === `${profile.id}.${point.key}`,
        );
        expect(got, `${profile.id}.${point.key} was read`).toBeDefined();
        const served = bank.valueOf(point.key);
        if (typeof served === 'string') {
          const trim = (v: unknown) => String(v).replace(/[\0 ]+$/, '');
          expect(trim(got!.value)).toBe(trim(served));
          continue;
        }
        if (point.functionCode <= 2) {
          expect(got!.value).toBe(served !== 0 ? 1 : 0);
          continue;
        }
        if (got!.quality === 'bad') {
          // Only a NaN sentinel may come back without a value.
          expect(point.nan, `${point.key} is bad without a NaN sentinel`).toBeDefined();
          continue;
        }
        const tolerance =
          point.type === 'f32'
            ? Math.max(Math.abs(served) * 2e-7, 1e-30) * 2
            : point.type === 'f64'
              ? Math.abs(served) * 1e-15 + 1e-300
              : Math.abs(point.scale) / 2 + 1e-9;
        expect(
          Math.abs((got!.value as number) - served),
          `${point.key}: read ${got!.value}, served ${served}`,
        ).toBeLessThanOrEqual(tolerance);
      }
    });
  }
});
