// Faults on a real RTU line (socat pty, emulated wire timing): CRC errors, partial frames,
// exception answers and timeouts from the simulator, a configured meter that never answers, and
// the adapter pulled out and plugged back in. The poller must report each clearly, never crash,
// and keep polling the meters that do answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, ManualClock, type ModbusProfile, RegisterBank, RtuSlave } from '@brana/hardware';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFieldbus } from '../src/fieldbus/from-config.ts';
import { FieldbusEngine, type FieldbusRecord, type ReadingRecord } from '../src/fieldbus/index.ts';
import { RealClock } from '../src/hal/index.ts';

const BAUD = 38_400;
const FAST_MS = 300;
const catalogue = loadCatalogue();
const sdm120 = catalogue.get('eastron-sdm120') as ModbusProfile;
const sdm630 = catalogue.get('eastron-sdm630') as ModbusProfile;
const world = new ManualClock(Date.UTC(2026, 5, 1, 10, 0));
const dir = mkdtempSync(join(tmpdir(), 'brana-fieldbus-faults-'));

function startLine(): Promise<RtuSlave> {
  return RtuSlave.start({
    dir,
    name: 'ttyUSB-FAULTS',
    baud: BAUD,
    devices: [
      // Each ignores a request inside its own inter-frame delay, as the engine must respect.
      ...[sdm120, sdm120, sdm630].map((p, i) => ({
        unit: i + 1,
        handler: new RegisterBank(p, { clock: world }),
        turnaroundMs: [2, 4] as const,
        interFrameDelayMs: p.bus.interFrameDelayMs,
      })),
    ],
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let slave: RtuSlave | undefined;
let engine: FieldbusEngine | undefined;
afterAll(async () => {
  await engine?.stop();
  await slave?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fieldbus faults on an RTU pty', () => {
  it('reports every fault, takes a silent meter offline, survives the adapter being pulled, and keeps polling the rest', async () => {
    slave = await startLine();
    const records: FieldbusRecord[] = [];
    const path = slave.clientPath;
    const { buses, devices } = buildFieldbus(
      {
        buses: [
          {
            name: 'rs485',
            type: 'rtu',
            path,
            baud: BAUD,
            parity: 'none',
            stopBits: 1,
            dataBits: 8,
            driver: 'brana',
          },
        ],
        devices: [
          {
            name: 'a',
            bus: 'rs485',
            unit: 1,
            profile: 'eastron-sdm120',
            pollFastMs: FAST_MS,
            pollSlowMs: 2000,
          },
          {
            name: 'b',
            bus: 'rs485',
            unit: 2,
            profile: 'eastron-sdm120',
            pollFastMs: FAST_MS,
            pollSlowMs: 2000,
          },
          {
            name: 'c',
            bus: 'rs485',
            unit: 3,
            profile: 'eastron-sdm630',
            pollFastMs: FAST_MS,
            pollSlowMs: 2000,
          },
          // Configured, wired, but dead: nothing answers at unit 9.
          {
            name: 'dead',
            bus: 'rs485',
            unit: 9,
            profile: 'eastron-sdm120',
            pollFastMs: FAST_MS,
            pollSlowMs: 2000,
          },
        ],
      },
      catalogue,
    );
    engine = new FieldbusEngine(buses, devices, {
      clock: new RealClock(),
      sink: {
        send: (r) => {
          records.push(r);
          return true;
        },
      },
      retries: 1,
      offlineAfter: 2,
      offlineProbeMs: [1500, 3000],
      reopenMs: [200, 800],
    });
    engine.start();
    const statusOf = (device: string) =>
      records
        .filter((r) => r.kind === 'device-status' && r.device === device)
        .map((r) => r.kind === 'device-status' && r.state);

    await until('the dead meter goes offline', () => statusOf('dead').includes('offline'));
    const offline = records.find(
      (r) => r.kind === 'device-status' && r.device === 'dead' && r.state === 'offline',
    );
    expect(offline).toMatchObject({ reason: expect.stringMatching(/unit 9 .*no answer within 500 ms/) });

    // One of each fault from meter a, each a single occurrence: the retry gets a good answer.
    const faultsOf = (code: string) =>
      records.filter((r) => r.kind === 'fault' && r.device === 'a' && r.code === code);
    slave.injectFault(1, { kind: 'badCrc' });
    await until('a CRC fault', () => faultsOf('MODBUS_CRC').length > 0);
    slave.injectFault(1, { kind: 'exception', code: 4 });
    await until('an exception fault', () => faultsOf('MODBUS_EXCEPTION').length > 0);
    slave.injectFault(1, { kind: 'partial' });
    slave.injectFault(1, { kind: 'timeout' });
    await until(
      'partial frame and timeout faults',
      () => faultsOf('MODBUS_TIMEOUT').length + faultsOf('MODBUS_BAD_RESPONSE').length >= 2,
    );
    expect(faultsOf('MODBUS_CRC')[0]).toMatchObject({ final: false, message: expect.stringMatching(/CRC/) });
    expect(faultsOf('MODBUS_EXCEPTION')[0]).toMatchObject({
      final: true,
      message: expect.stringMatching(/exception 4 \(server device failure\)/),
    });
    expect(statusOf('a')).toEqual(['online']);

    // Meter b kept its schedule while a misbehaved and dead was probed: no gap much beyond one
    // fast period plus one probe timeout (500 ms) plus slack for a loaded machine.
    await sleep(3000);
    const since = offline!.kind === 'device-status' ? offline!.atMs : 0;
    const bTimes = records
      .filter((r): r is ReadingRecord => r.kind === 'reading' && r.channel === 'b.powerW')
      .map((r) => r.atMs)
      .filter((t) => t >= since);
    expect(bTimes.length).toBeGreaterThan(5);
    const gaps = bTimes.slice(1).map((t, i) => t - bTimes[i]!);
    expect(Math.max(...gaps)).toBeLessThan(FAST_MS + 2 * 500 + 800);

    // Pull the adapter: the pty disappears. Then plug it back in at the same path.
    await slave.stop();
    await until('the bus goes down', () =>
      records.some((r) => r.kind === 'bus-status' && r.state === 'down'),
    );
    await sleep(500);
    slave = await startLine();
    expect(slave.clientPath).toBe(path);
    const upCount = () => records.filter((r) => r.kind === 'bus-status' && r.state === 'up').length;
    await until('the bus is reopened', () => upCount() >= 2);
    const n = records.filter((r) => r.kind === 'reading' && r.channel === 'c.powerW').length;
    await until(
      'meter c is read again',
      () => records.filter((r) => r.kind === 'reading' && r.channel === 'c.powerW').length > n + 3,
    );
    const down = records.find((r) => r.kind === 'bus-status' && r.state === 'down');
    expect(down).toMatchObject({ bus: 'rs485', reason: expect.any(String) });
  }, 40_000);
});
