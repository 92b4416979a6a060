import { encodePoint } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../hal/index.ts';
import { type EngineBus, type EngineDevice, FieldbusEngine, type PollProfile } from './engine.ts';
import { MemoryModbusClient } from './memory-modbus.ts';
import type { DeviceStatusRecord, FieldbusRecord, ReadingRecord } from './records.ts';
import type { PollPoint } from './types.ts';

const point = (key: string, address: number, extra: Partial<PollPoint> = {}): PollPoint => ({
  key,
  address,
  functionCode: 4,
  type: 'f32',
  wordOrder: 'big',
  poll: 'fast',
  ...extra,
});

const meter: PollProfile = {
  id: 'test-meter',
  bus: { maxRegistersPerRead: 40, gapFill: 0, readableHoles: false, timeoutMs: 200, interFrameDelayMs: 0 },
  points: [
    point('voltageL1V', 0, { unit: 'V', range: [0, 300] }),
    point('powerW', 2, { unit: 'W' }),
    point('energyImportKWh', 4, { unit: 'kWh', kind: 'counter' }),
    point('serialNumber', 100, { type: 'u32', functionCode: 3, poll: 'once' }),
  ],
};

function serve(client: MemoryModbusClient, unit: number, values: Record<string, number>): void {
  const d = client.device(unit);
  for (const p of meter.points) {
    const v = values[p.key];
    if (v === undefined) continue;
    const words = encodePoint(p, v);
    const map = p.functionCode === 3 ? d.holding : d.input;
    words.forEach((w, i) => map.set(p.address + i, w));
  }
}

function rig(options: { kind?: 'rtu' | 'tcp'; units?: number[]; maxInFlight?: number } = {}) {
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 5, 1, 8, 0) });
  let client = new MemoryModbusClient(clock, 20, 200);
  const clients = [client];
  let openFails = 0;
  const records: FieldbusRecord[] = [];
  const units = options.units ?? [1, 2, 3];
  for (const u of units)
    serve(client, u, {
      voltageL1V: 230 + u,
      powerW: 1000 * u,
      energyImportKWh: 100 * u,
      serialNumber: 7000 + u,
    });
  const bus: EngineBus = {
    name: 'rs485-1',
    kind: options.kind ?? 'rtu',
    gapMs: 4,
    maxInFlight: options.maxInFlight ?? 1,
    open: async () => {
      if (openFails > 0) {
        openFails--;
        const { PortOpenError } = await import('../errors.ts');
        throw new PortOpenError('rtu:/dev/serial/by-id/usb-FTDI', 'no such device', 'plug the adapter in');
      }
      if (!client.isOpen) {
        const next = new MemoryModbusClient(clock, 20, 200);
        next.devices.clear();
        for (const [u, d] of client.devices) next.devices.set(u, d);
        client = next;
        clients.push(client);
      }
      return client;
    },
  };
  const devices: EngineDevice[] = units.map((u) => ({
    name: `meter-${u}`,
    bus: 'rs485-1',
    unit: u,
    profile: meter,
    pollFastMs: 1000,
    pollSlowMs: 60_000,
  }));
  const engine = new FieldbusEngine([bus], devices, {
    clock,
    sink: {
      send: (r) => {
        records.push(r);
        return true;
      },
    },
  });
  return {
    clock,
    engine,
    records,
    get client() {
      return client;
    },
    clients,
    failOpens: (n: number) => {
      openFails = n;
    },
  };
}

/** Stops the engine while virtual time moves on, so requests in flight can finish. */
async function stop(r: { engine: FieldbusEngine; clock: VirtualClock }): Promise<void> {
  const stopping = r.engine.stop();
  await r.clock.advanceAsync(2000);
  await stopping;
}

const readingsOf = (records: FieldbusRecord[], channel: string) =>
  records.filter((r) => r.kind === 'reading' && r.channel === channel);

describe('FieldbusEngine', () => {
  it('polls every device on an RTU line one request at a time, coalesced, with decoded values', async () => {
    const r = rig();
    r.engine.start();
    await r.clock.advanceAsync(5000);
    await stop(r);
    expect(r.client.maxInFlight).toBe(1);
    // First poll per device: the once-read FC03 serial number plus one FC04 block of 6 registers.
    expect(r.client.log.slice(0, 2)).toEqual(['1:3:100:2', '1:4:0:6']);
    expect(r.client.log.filter((l) => l.endsWith(':3:100:2'))).toHaveLength(3);
    const v = readingsOf(r.records, 'meter-2.voltageL1V');
    expect(v.length).toBeGreaterThanOrEqual(5);
    expect(v[0]).toMatchObject({ value: 232, unit: 'V', quality: 'good' });
    expect(readingsOf(r.records, 'meter-3.energyImportKWh')[0]).toMatchObject({ value: 300, total: 300 });
    expect(r.records.filter((x) => x.kind === 'device-status')).toHaveLength(3);
  });

  it('a silent meter goes offline with the reason, is probed sparingly, and the others keep their schedule', async () => {
    const r = rig();
    r.client.device(2).fault = 'silent';
    r.engine.start();
    await r.clock.advanceAsync(30_000);
    const offline = r.records.find((x) => x.kind === 'device-status' && x.state === 'offline');
    expect(offline).toMatchObject({
      device: 'meter-2',
      reason: expect.stringMatching(/no answer within 200 ms/),
    });
    expect(
      r.records.some((x) => x.kind === 'reading' && x.device === 'meter-2' && x.quality === 'stale'),
    ).toBe(false);
    // Meters 1 and 3 were polled about once a second throughout.
    for (const ch of ['meter-1.powerW', 'meter-3.powerW']) {
      expect(readingsOf(r.records, ch).length).toBeGreaterThanOrEqual(27);
    }
    const probesBefore = r.client.log.filter((l) => l.startsWith('2:')).length;
    expect(probesBefore).toBeLessThan(20);
    r.client.device(2).fault = undefined;
    await r.clock.advanceAsync(15_000);
    await stop(r);
    const back = r.records
      .filter((x) => x.kind === 'device-status' && x.device === 'meter-2')
      .map((x) => x.kind === 'device-status' && x.state);
    expect(back).toEqual(['offline', 'online']);
    // Back online, the once-points (serial number) are read again.
    expect(r.client.log.filter((l) => l === '2:3:100:2').length).toBeGreaterThanOrEqual(1);
  });

  it('marks the last readings stale when a meter that was answering falls silent', async () => {
    const r = rig({ units: [1] });
    r.engine.start();
    await r.clock.advanceAsync(3000);
    r.client.device(1).fault = 'silent';
    await r.clock.advanceAsync(10_000);
    await stop(r);
    const stale = r.records.filter((x) => x.kind === 'reading' && x.quality === 'stale');
    expect(stale.map((x) => x.kind === 'reading' && x.point).sort()).toEqual(
      ['energyImportKWh', 'powerW', 'serialNumber', 'voltageL1V'].sort(),
    );
  });

  it('an exception answer is an answer: fault recorded, points bad, the device stays online', async () => {
    const r = rig({ units: [1] });
    r.client.device(1).fault = { exception: 2 };
    r.engine.start();
    await r.clock.advanceAsync(5000);
    await stop(r);
    const states = r.records.filter((x) => x.kind === 'device-status');
    expect(states).toEqual([expect.objectContaining({ state: 'online' })]);
    expect(r.records.find((x) => x.kind === 'fault' && x.functionCode === 4)).toMatchObject({
      code: 'MODBUS_EXCEPTION',
      functionCode: 4,
      address: 0,
    });
    expect(readingsOf(r.records, 'meter-1.powerW')[0]).toMatchObject({ value: null, quality: 'bad' });
    // Not retried: an exception is a definite answer.
    expect(r.engine.stats.retries).toBe(0);
  });

  it('an unplugged adapter marks the bus down, is reopened with backoff, and polling resumes', async () => {
    const r = rig({ units: [1, 2] });
    r.engine.start();
    await r.clock.advanceAsync(2500);
    r.failOpens(2);
    r.client.unplug();
    await r.clock.advanceAsync(10_000);
    await stop(r);
    const bus = r.records
      .filter((x) => x.kind === 'bus-status')
      .map((x) => x.kind === 'bus-status' && [x.state, x.reason]);
    // Down when the port closed, again when it could not be opened (a new reason), then up.
    expect(bus).toEqual([
      ['up', 'opened'],
      ['down', expect.stringMatching(/memory:memory: /)],
      ['down', expect.stringMatching(/no such device/)],
      ['up', 'opened'],
    ]);
    expect(r.clients.length).toBe(2);
    expect(r.clients[1]!.log.length).toBeGreaterThan(5);
    // Devices were not blamed for the missing adapter.
    expect(r.records.some((x) => x.kind === 'device-status' && x.state === 'offline')).toBe(false);
  });

  it('a TCP bus that stays down takes its devices offline like silent ones; back, they are asked at once', async () => {
    const r = rig({ kind: 'tcp', units: [1, 2, 3] });
    r.engine.start();
    await r.clock.advanceAsync(2500);
    r.failOpens(4);
    r.client.unplug();
    // Opens fail at about +0, +1 s, +3 s, +7 s (backoff 1, 2, 4 s); the fifth, at +15 s, works.
    await r.clock.advanceAsync(5000);
    const status = (x: FieldbusRecord) => x.kind === 'device-status' && [x.device, x.state, x.reason];
    const offline = r.records.filter((x) => x.kind === 'device-status' && x.state === 'offline');
    expect(offline.map(status)).toEqual(
      [1, 2, 3].map((u) => [
        `meter-${u}`,
        'offline',
        expect.stringMatching(/^bus rs485-1 is down: .*no such device/),
      ]),
    );
    // Their last readings were re-sent as stale, as for a silent device.
    const stale = r.records.filter((x) => x.kind === 'reading' && x.quality === 'stale');
    expect(new Set(stale.map((x) => x.kind === 'reading' && x.device))).toEqual(
      new Set(['meter-1', 'meter-2', 'meter-3']),
    );
    await r.clock.advanceAsync(14_000);
    const up = r.records.filter((x) => x.kind === 'bus-status' && x.state === 'up');
    expect(up.length).toBe(2);
    const backAt = (up[1] as { atMs: number }).atMs;
    const online = r.records.filter(
      (x): x is DeviceStatusRecord => x.kind === 'device-status' && x.state === 'online' && x.atMs >= backAt,
    );
    expect(online.map(status)).toEqual(
      expect.arrayContaining([1, 2, 3].map((u) => [`meter-${u}`, 'online', 'answered'])),
    );
    // Within a turn or two of the reopen, not at the next probe (5 s later).
    for (const x of online) expect(x.atMs - backAt).toBeLessThan(500);
    await stop(r);
    // One outage (its reason said twice: closed, then cannot open), one reopen: lanes holding the
    // old connection never closed the new one.
    expect(
      r.records.filter((x) => x.kind === 'bus-status').map((x) => x.kind === 'bus-status' && x.state),
    ).toEqual(['up', 'down', 'down', 'up']);
    expect(r.clients.length).toBe(2);
  });

  it('on TCP runs one lane per unit, never more than maxInFlight requests at once', async () => {
    const r = rig({ kind: 'tcp', units: [1, 2, 3, 4], maxInFlight: 2 });
    r.engine.start();
    await r.clock.advanceAsync(5000);
    await stop(r);
    expect(r.client.maxInFlight).toBe(2);
    expect(readingsOf(r.records, 'meter-4.powerW').length).toBeGreaterThanOrEqual(4);
  });

  it('books counter use into quarter hours and keeps the totals in the persisted state', async () => {
    const r = rig({ units: [1] });
    r.engine.start();
    for (let minute = 1; minute <= 31; minute++) {
      serve(r.client, 1, { energyImportKWh: 100 + minute * 0.1 });
      await r.clock.advanceAsync(60_000);
    }
    await stop(r);
    const intervals = r.records.filter((x) => x.kind === 'interval');
    expect(intervals.map((x) => x.kind === 'interval' && new Date(x.startMs).toISOString())).toEqual([
      '2026-06-01T08:00:00.000Z',
      '2026-06-01T08:15:00.000Z',
    ]);
    for (const i of intervals) if (i.kind === 'interval') expect(i.delta).toBeCloseTo(1.5, 2); // f32 register
    const state = r.engine.snapshotState();
    expect(state.counters['meter-1.energyImportKWh']!.total).toBeCloseTo(103.1, 3);
  });

  it('a u16 counter rolls over and a restart with the saved state carries totals and quarter hours on', async () => {
    // A water meter with a 16-bit register in 0.01 m³ that wraps at 655.36 m³.
    const water: PollProfile = {
      id: 'u16-water',
      bus: {
        maxRegistersPerRead: 10,
        gapFill: 0,
        readableHoles: false,
        timeoutMs: 200,
        interFrameDelayMs: 0,
      },
      points: [point('volumeM3', 0, { type: 'u16', scale: 0.01, unit: 'm3', kind: 'counter' })],
    };
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 9, 25, 0, 0) });
    let client = new MemoryModbusClient(clock, 20, 200);
    // Each process opens its own connection to the same meter.
    const reopen = async () => {
      if (!client.isOpen) {
        const next = new MemoryModbusClient(clock, 20, 200);
        for (const [u, d] of client.devices) next.devices.set(u, d);
        client = next;
      }
      return client;
    };
    const records: FieldbusRecord[] = [];
    const sink = {
      send: (r: FieldbusRecord) => {
        records.push(r);
        return true;
      },
    };
    let raw = 65_400; // 654.00 m³
    const setRaw = (v: number) => {
      raw = v % 65_536;
      client.device(1).input.set(0, raw);
    };
    setRaw(raw);
    const start = (state?: ReturnType<FieldbusEngine['snapshotState']>) =>
      new FieldbusEngine(
        [{ name: 'b', kind: 'rtu', gapMs: 4, maxInFlight: 1, open: reopen }],
        [{ name: 'w', bus: 'b', unit: 1, profile: water, pollFastMs: 30_000, pollSlowMs: 60_000 }],
        { clock, sink, ...(state ? { state } : {}) },
      );
    let engine = start();
    engine.start();
    // 0.1 m³ a minute for 20 minutes: crosses the 16-bit top at minute 14.
    for (let m = 1; m <= 20; m++) {
      setRaw(raw + 10);
      await clock.advanceAsync(60_000);
    }
    const stopping = engine.stop();
    await clock.advanceAsync(1000);
    await stopping;
    const saved = JSON.parse(JSON.stringify(engine.snapshotState()));
    // Down for 10 minutes while 1 m³ flows; then a new process starts from the saved state.
    await clock.advanceAsync(600_000);
    setRaw(raw + 100);
    engine = start(saved);
    engine.start();
    for (let m = 1; m <= 20; m++) {
      setRaw(raw + 10);
      await clock.advanceAsync(60_000);
    }
    const stopping2 = engine.stop();
    await clock.advanceAsync(1000);
    await stopping2;

    expect(
      records.filter((r) => r.kind === 'counter-event').map((r) => r.kind === 'counter-event' && r.event),
    ).toEqual(['rollover']);
    const totals = records.filter((r): r is ReadingRecord => r.kind === 'reading' && r.total !== undefined);
    for (let i = 1; i < totals.length; i++)
      expect(totals[i]!.total!).toBeGreaterThanOrEqual(totals[i - 1]!.total!);
    // 654 m³ at the start + 2 + 1 + 2 m³ flowed.
    expect(totals.at(-1)!.total!).toBeCloseTo(659, 6);
    const intervals = records.filter((r) => r.kind === 'interval');
    const starts = intervals.map((r) => (r.kind === 'interval' ? r.startMs : 0));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(15 * 60_000);
    const sum = intervals.reduce((a, r) => a + (r.kind === 'interval' ? r.delta : 0), 0);
    // Nothing lost across the rollover or the restart: the closed quarter hours hold the use so far.
    expect(sum).toBeGreaterThan(4);
    expect(sum).toBeLessThanOrEqual(5 + 1e-9);
    expect(intervals.some((r) => r.kind === 'interval' && r.quality === 'estimated')).toBe(true);
  });

  it('an opener that hands back a closed connection is retried with backoff, not in a tight loop', async () => {
    const clock = new VirtualClock();
    const dead = new MemoryModbusClient(clock);
    await dead.close();
    let opens = 0;
    const records: FieldbusRecord[] = [];
    const engine = new FieldbusEngine(
      [
        {
          name: 'b',
          kind: 'rtu',
          gapMs: 4,
          maxInFlight: 1,
          open: async () => {
            opens++;
            return dead;
          },
        },
      ],
      [{ name: 'm', bus: 'b', unit: 1, profile: meter, pollFastMs: 1000, pollSlowMs: 60_000 }],
      {
        clock,
        sink: {
          send: (r) => {
            records.push(r);
            return true;
          },
        },
      },
    );
    engine.start();
    await clock.advanceAsync(10_000);
    await stop({ engine, clock });
    // Backoff 1 s, 2 s, 4 s, 8 s: a handful of attempts in 10 s.
    expect(opens).toBeGreaterThanOrEqual(3);
    expect(opens).toBeLessThanOrEqual(6);
    expect(records.filter((r) => r.kind === 'bus-status')).toEqual([
      expect.objectContaining({ state: 'down', reason: 'memory:memory did not open' }),
    ]);
  });

  it("serves other devices while one rests: never inside a device's own delay, never two at once", async () => {
    const clock = new VirtualClock();
    const inner = new MemoryModbusClient(clock, 20, 200);
    for (const u of [1, 2, 3])
      serve(inner, u, { voltageL1V: 230, powerW: 1, energyImportKWh: 1, serialNumber: u });
    // Every transaction as [unit, start, end] on the virtual clock.
    const line: [number, number, number][] = [];
    const timed = <T>(unit: number, p: () => Promise<T>) => {
      const start = clock.monotonicMs();
      return p().finally(() => line.push([unit, start, clock.monotonicMs()]));
    };
    const client = {
      ...inner,
      target: inner.target,
      isOpen: true,
      readInputRegisters: (u: number, a: number, n: number, o?: { timeoutMs?: number }) =>
        timed(u, () => inner.readInputRegisters(u, a, n, o)),
      readHoldingRegisters: (u: number, a: number, n: number, o?: { timeoutMs?: number }) =>
        timed(u, () => inner.readHoldingRegisters(u, a, n, o)),
      close: () => inner.close(),
    } as unknown as MemoryModbusClient;
    const slow: PollProfile = { ...meter, bus: { ...meter.bus, interFrameDelayMs: 30 } };
    const engine = new FieldbusEngine(
      [{ name: 'b', kind: 'rtu', gapMs: 4, maxInFlight: 1, open: async () => client }],
      [1, 2, 3].map((u) => ({
        name: `m${u}`,
        bus: 'b',
        unit: u,
        profile: slow,
        pollFastMs: 500,
        pollSlowMs: 60_000,
      })),
      { clock, sink: { send: () => true } },
    );
    engine.start();
    await clock.advanceAsync(5000);
    await stop({ engine, clock });
    // The first round: each meter's two reads (serial number, block) interleaved, not back to back.
    expect(inner.log.slice(0, 6)).toEqual([
      '1:3:100:2',
      '2:3:100:2',
      '3:3:100:2',
      '1:4:0:6',
      '2:4:0:6',
      '3:4:0:6',
    ]);
    // 3 × 24 ms a read instead of a 30 ms rest after every read: the round takes 6 reads' time.
    expect(line[5]![2] - line[0]![1]).toBeLessThanOrEqual(6 * 24 + 1);
    expect(inner.maxInFlight).toBe(1);
    expect(line.length).toBeGreaterThan(20);
    for (let i = 1; i < line.length; i++) {
      const [unit, start] = line[i]!;
      expect(start - line[i - 1]![2]).toBeGreaterThanOrEqual(4); // t3.5 after every transaction
      const previous = line.slice(0, i).findLast((t) => t[0] === unit);
      if (previous) expect(start - previous[2]).toBeGreaterThanOrEqual(30); // the device's own delay
    }
  });

  it('learns a device turnaround and re-plans: a slow device gets its hole read through', async () => {
    const clock = new VirtualClock();
    // 200 ms from request to answer: a second request costs far more than 28 registers of hole.
    const client = new MemoryModbusClient(clock, 200, 1000);
    for (let a = 0; a < 32; a++) client.device(1).input.set(a, 0);
    const holey: PollProfile = {
      id: 'holey',
      bus: {
        maxRegistersPerRead: 40,
        gapFill: 0,
        readableHoles: true,
        timeoutMs: 1000,
        interFrameDelayMs: 0,
      },
      points: [point('a', 0), point('b', 30)],
    };
    const engine = new FieldbusEngine(
      [{ name: 'b', kind: 'rtu', gapMs: 4, maxInFlight: 1, charMs: 11_000 / 9600, open: async () => client }],
      [{ name: 'm', bus: 'b', unit: 1, profile: holey, pollFastMs: 1000, pollSlowMs: 60_000 }],
      { clock, sink: { send: () => true } },
    );
    engine.start();
    await clock.advanceAsync(60_000);
    await stop({ engine, clock });
    // At the assumed 20 ms the 28-register hole (64 ms at 9600 Bd) is dearer than a request…
    expect(client.log.slice(0, 2)).toEqual(['1:4:0:2', '1:4:30:2']);
    // …once the slow answers have been timed, one read covers both points. (The in-memory client
    // answers in 200 ms flat, so the estimate is 200 less the 32-register frames it assumes: 108.)
    expect(client.log.slice(-3)).toEqual(['1:4:0:32', '1:4:0:32', '1:4:0:32']);
    expect(engine.turnaroundEstimatesMs().m).toBeCloseTo(200 - (13 + 64) * (11_000 / 9600) - 4, 0);
  });
});
