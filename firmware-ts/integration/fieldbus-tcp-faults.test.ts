// A Modbus TCP meter failing the ways meters fail on a network, played by the bench rig's TCP
// simulator (real sockets): it closes the connection while idle, closes it in the middle of a
// request, refuses connections while it restarts, stops answering on an open connection, and
// vanishes so that connection attempts get no answer at all. Whatever state the connection ended
// in, the poller reopens it with backoff; a device it cannot reach goes offline with the same
// states and events as a silent RTU meter, and is back online within moments of the meter.
import {
  loadCatalogue,
  ManualClock,
  type ModbusProfile,
  ModbusTcpServer,
  RegisterBank,
} from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFieldbus } from '../src/fieldbus/from-config.ts';
import {
  type BusStatusRecord,
  type DeviceStatusRecord,
  FieldbusEngine,
  type FieldbusRecord,
  type ReadingRecord,
} from '../src/fieldbus/index.ts';
import { RealClock } from '../src/hal/index.ts';
import { recordingSink, sleep, until } from './fieldbus-support.ts';

const catalogue = loadCatalogue();
const em24 = catalogue.get('carlo-gavazzi-em24') as ModbusProfile;
const world = new ManualClock(Date.UTC(2026, 5, 1, 12, 0));

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

/** One EM24 at unit 1 on its own connection, polled every 200 ms, failing fast for a short test. */
async function meterOnLan(driver: 'brana' | 'modbus-serial') {
  const bank = new RegisterBank(em24, { clock: world, seed: 3 });
  const server = await ModbusTcpServer.start({ port: 0, devices: [{ unit: 1, handler: bank }] });
  running.push(server);
  const { records, sink } = recordingSink();
  const { buses, devices } = buildFieldbus(
    {
      buses: [
        {
          name: 'lan',
          type: 'tcp',
          host: '127.0.0.1',
          port: server.port,
          maxInFlight: 1,
          connectTimeoutMs: 400,
          driver,
        },
      ],
      devices: [
        {
          name: 'annex',
          bus: 'lan',
          unit: 1,
          profile: 'carlo-gavazzi-em24',
          pollFastMs: 200,
          pollSlowMs: 2000,
          timeoutMs: 150,
        },
      ],
    },
    catalogue,
  );
  const engine = new FieldbusEngine(buses, devices, {
    clock: new RealClock(),
    sink,
    retries: 1,
    retryBackoffMs: 20,
    offlineAfter: 3,
    offlineProbeMs: [300, 1000],
    reopenMs: [100, 400],
  });
  engine.start();
  running.push(engine);
  const readings = () =>
    records.filter((r): r is ReadingRecord => r.kind === 'reading' && r.quality !== 'stale');
  const bus = () => records.filter((r): r is BusStatusRecord => r.kind === 'bus-status').map((r) => r.state);
  const device = () =>
    records.filter((r): r is DeviceStatusRecord => r.kind === 'device-status').map((r) => r.state);
  await until('the meter online', () => device().includes('online'));
  /** Readings arrive again, newer than `sinceMs`, and match what the meter serves. */
  const readsAgain = async (sinceMs: number, what: string) => {
    await until(what, () => readings().some((r) => r.atMs > sinceMs && r.point === 'powerW'));
    const last = readings()
      .filter((r) => r.point === 'voltageL1V')
      .at(-1)!;
    expect(Math.abs((last.value as number) - (bank.valueOf('voltageL1V') as number))).toBeLessThan(0.2);
  };
  return { server, engine, records, bus, device, readsAgain };
}

describe.each(['brana', 'modbus-serial'] as const)('a Modbus TCP meter, driver %s', (driver) => {
  it('closes the connection while idle: reopened, polled again, never offline', async () => {
    const m = await meterOnLan(driver);
    const at = Date.now();
    expect(m.server.dropConnections()).toBe(1);
    await until('the bus down and up again', () => m.bus().join() === 'up,down,up');
    await m.readsAgain(at, 'readings after the reopen');
    expect(m.device()).toEqual(['online']);
    expect(m.server.stats.connections).toBe(2);
  }, 20_000);

  it('closes the connection mid-request: reopened, polled again, never offline', async () => {
    const m = await meterOnLan(driver);
    const at = Date.now();
    m.server.injectFault(1, { kind: 'close' });
    await until('the bus down and up again', () => m.bus().join() === 'up,down,up');
    await m.readsAgain(at, 'readings after the reopen');
    expect(m.device()).toEqual(['online']);
  }, 20_000);

  it('refuses connections while it restarts: offline with the reason, back online when it listens', async () => {
    const m = await meterOnLan(driver);
    await m.server.setMode('refuse');
    await until('the device offline', () => m.device().includes('offline'));
    const offline = m.records.find((r) => r.kind === 'device-status' && r.state === 'offline');
    expect(offline).toMatchObject({
      device: 'annex',
      reason: expect.stringMatching(/^bus lan is down: .*refused/),
    });
    // Its last readings were re-sent as stale, as for a silent RTU meter.
    expect(m.records.some((r) => r.kind === 'reading' && r.quality === 'stale')).toBe(true);
    await sleep(500);
    const back = Date.now();
    await m.server.setMode('serve');
    await until('the device online again', () => m.device().join() === 'online,offline,online', 5000);
    // Reopened within the reopen backoff (at most 400 ms here) and asked at once, not at its next probe.
    expect(Date.now() - back).toBeLessThan(2000);
    await m.readsAgain(back, 'readings after the restart');
  }, 20_000);

  it('stops answering on an open connection: offline, the connection reopened, back when it answers', async () => {
    const m = await meterOnLan(driver);
    await m.server.setMode('stall');
    await until('the device offline', () => m.device().includes('offline'));
    const offline = m.records.find((r) => r.kind === 'device-status' && r.state === 'offline');
    expect(offline).toMatchObject({ reason: expect.stringMatching(/no answer within 150 ms/) });
    // Every device on the connection is silent: it is reopened once.
    await until('a new connection', () => m.server.stats.connections >= 2);
    const back = Date.now();
    await m.server.setMode('serve');
    await until('the device online again', () => m.device().at(-1) === 'online', 5000);
    await m.readsAgain(back, 'readings after the hang');
  }, 20_000);

  it('vanishes (connection attempts unanswered): offline, attempts time out, back when it returns', async () => {
    const m = await meterOnLan(driver);
    await m.server.setMode('blackhole');
    await until('the device offline', () => m.device().includes('offline'));
    // The open connection went silent; it is dropped and new attempts time out after 400 ms.
    await until('a timed-out connection attempt', () =>
      m.records.some(
        (r) =>
          r.kind === 'bus-status' &&
          r.state === 'down' &&
          /no answer to the connection attempt/.test(r.reason),
      ),
    );
    await sleep(400);
    const back = Date.now();
    await m.server.setMode('serve');
    await until('the device online again', () => m.device().at(-1) === 'online', 5000);
    // Within one backoff (≤ 400 ms) plus one attempt (≤ 400 ms), not the kernel's SYN retries.
    expect(Date.now() - back).toBeLessThan(2500);
    await m.readsAgain(back, 'readings after the outage');
  }, 20_000);
});
