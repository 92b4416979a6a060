import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegionCollector } from './collector.ts';
import { approachPoint, buildingConfig, intersectionConfig } from './configs.ts';
import { firmwareFor } from './firmware-commands.ts';
import { configHash } from './region.ts';
import { loadRegionFile, planSites } from './region-file.ts';
import { counterNow, nextDelayMs } from './vehicles.ts';

const region = loadRegionFile();

const endpoints = (dir: string) => ({
  rtu: [
    {
      bus: 'ttyRS485',
      path: `${dir}/ttyRS485`,
      baud: 9600,
      parity: 'none' as const,
      devices: [
        { unit: 1, profile: 'eastron-sdm630', name: 'main meter' },
        { unit: 104, profile: 'senseair-s8', name: 'classroom CO2' },
      ],
    },
  ],
  tcp: [],
  wires: { socket: `${dir}/wires.sock`, lines: [] },
});

describe('region description', () => {
  it('plans the intersection and cycles through the buildings', () => {
    const sites = planSites(region, 5).map((s) => s.site);
    expect(sites).toEqual(['intersection', 'school', 'care-home', 'school-2', 'care-home-2', 'school-3']);
    expect(planSites(region, 0).map((s) => s.kind)).toEqual(['intersection']);
    const seeds = planSites(region, 4)
      .filter((s) => s.kind === 'school')
      .map((s) => s.seedOffset);
    expect(new Set(seeds).size).toBe(seeds.length);
  });

  it('has a symmetric conflict matrix over its approaches', () => {
    const x = region.intersection;
    for (const a of x.approaches) {
      for (const b of x.conflicts[a.id] ?? []) expect(x.conflicts[b]).toContain(a.id);
    }
    expect(Object.keys(x.conflicts).sort()).toEqual(x.approaches.map((a) => a.id).sort());
  });

  it('refuses a broken region file with the path and the fix', () => {
    expect(() => loadRegionFile('/nonexistent/region.yaml')).toThrow(/restore the file from git/);
  });
});

describe('gateway configs', () => {
  it('places approach points on the side the vehicle comes from', () => {
    const c = { lat: 49.4, lon: 15.6 };
    const fromNorth = approachPoint(c, 180, 100); // heading south
    expect(fromNorth.latDeg).toBeGreaterThan(c.lat);
    expect(fromNorth.lonDeg).toBeCloseTo(c.lon, 9);
    const fromWest = approachPoint(c, 90, 100); // heading east
    expect(fromWest.lonDeg).toBeLessThan(c.lon);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 359.99, noNaN: true }),
        fc.double({ min: 1, max: 2000, noNaN: true }),
        (h, d) => {
          const p = approachPoint(c, h, d);
          const north = (p.latDeg - c.lat) * 111_320;
          const east = (p.lonDeg - c.lon) * 111_320 * Math.cos((c.lat * Math.PI) / 180);
          expect(Math.hypot(north, east)).toBeCloseTo(d, 6);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives the intersection its approaches, keys, inputs and the bench wires', () => {
    const [site] = planSites(region, 0);
    const keys = [
      {
        name: 'ZZS-101',
        vehicleId: 101,
        role: 'ambulance' as const,
        link: 'radio' as const,
        publicKey: 'A'.repeat(43),
      },
    ];
    const cfg = intersectionConfig(region, site!, endpoints('/d'), keys, {
      radioPath: '/d/radio.gateway',
      radioBaud: 19200,
      udpPort: 4000,
    });
    const p = cfg.preemption as {
      approaches: { id: string; output: string; readback: string }[];
      inputs: { radio: { path: string }; udp: { port: number } };
      vehicleKeys: { id: string; roles: string[] }[];
    };
    expect(p.approaches.map((a) => a.output)).toEqual([
      'preempt.north',
      'preempt.east',
      'preempt.south',
      'preempt.west',
    ]);
    expect(p.inputs.radio.path).toBe('/d/radio.gateway');
    expect(p.inputs.udp.port).toBe(4000);
    expect(p.vehicleKeys).toEqual([{ id: 'ZZS-101', publicKey: 'A'.repeat(43), roles: ['ambulance'] }]);
    expect(cfg.hardware).toEqual({
      board: 'bench',
      gpio: { backend: 'bench', benchSocket: '/d/wires.sock' },
    });
  });

  it('gives a building its bus, devices named after the rig, pulses or alarms', () => {
    const [, school, care] = planSites(region, 2);
    const s = buildingConfig(school!, endpoints('/s'));
    expect(s.devices).toEqual([
      expect.objectContaining({ name: 'main-meter', bus: 'ttyRS485', unit: 1, profile: 'eastron-sdm630' }),
      expect.objectContaining({ name: 'classroom-co2', unit: 104, profile: 'senseair-s8' }),
    ]);
    expect(s.pulses).toEqual([expect.objectContaining({ line: 's0.water', profile: 's0-water-10l' })]);
    const c = buildingConfig(care!, endpoints('/c'));
    expect(c.alarms).toEqual([expect.objectContaining({ kind: 'sos', line: 'sos.button' })]);
    expect(c.pulses).toBeUndefined();
  });

  it('runs rt where there is preemption or an alarm, fieldbus where there is a bus or pulses', () => {
    const [x, school, care] = planSites(region, 2);
    const both = new Set(['rt', 'fieldbus']);
    const sub = (f: ReturnType<typeof firmwareFor>) => ({ rt: f.rt?.args[1], fieldbus: f.fieldbus?.args[1] });
    expect(sub(firmwareFor(buildingConfig(care!, endpoints('/c')), both, '/g', 'bin'))).toEqual({
      rt: 'rt',
      fieldbus: 'fieldbus',
    });
    expect(sub(firmwareFor(buildingConfig(school!, endpoints('/s')), both, '/g', 'bin'))).toEqual({
      rt: undefined,
      fieldbus: 'fieldbus',
    });
    expect(x?.kind).toBe('intersection');
    const noRt = firmwareFor(buildingConfig(care!, endpoints('/c')), new Set(['fieldbus']), '/g', 'bin');
    expect(noRt.missing).toEqual(['brana-firmware rt']);
  });

  it('hashes a config the same whatever the key order', () => {
    expect(configHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      configHash({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });
});

describe('vehicle timing', () => {
  it('message counters rise with the wall clock and delays stay around the mean', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 2), max: Date.UTC(2030, 0, 1) }),
        fc.integer({ min: 50, max: 10_000_000 }),
        (t, dt) => {
          expect(counterNow(t + dt)).toBeGreaterThan(counterNow(t));
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.integer({ min: 5, max: 3600 }),
        (r, mean) => {
          const d = nextDelayMs(mean, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.max(3000, mean * 500));
          expect(d).toBeLessThanOrEqual(Math.max(3000, mean * 1500));
        },
      ),
    );
  });
});

describe('collector', () => {
  it('counts each event once, pairs preemptions with latency and release, sums rejections', () => {
    const now = 1_000_000;
    const c = new RegionCollector('/d', 1, () => now);
    c.gateway({
      site: 'intersection',
      kind: 'intersection',
      state: 'online',
      gatewayId: 'gw1',
      runningVersion: 1,
      desiredVersion: 1,
      readingsPerS: 0,
    });
    c.run({
      kind: 'ambulance',
      vehicle: 'ZZS-101',
      role: 'ambulance',
      approach: 'north',
      firstSentAt: 100,
      startedWallMs: now,
    });
    c.contact({ approach: 'north', closed: true, atMs: 104.5 });
    const asserted = {
      bootEpoch: 1,
      seq: 1,
      ts: now,
      kind: 'preemption.asserted',
      data: { approach: 'north', vehicle: 'ZZS-101/101', priority: 'emergency' },
    };
    const rejected = {
      bootEpoch: 1,
      seq: 2,
      ts: now,
      kind: 'preemption.rejected',
      data: { reason: 'signature' },
    };
    c.telemetry('gw1', [], [asserted, rejected]);
    c.telemetry('gw1', [], [asserted, rejected]); // a resent batch
    c.telemetry(
      'gw1',
      [],
      [
        {
          bootEpoch: 1,
          seq: 3,
          ts: now,
          kind: 'preemption.released',
          data: { approach: 'north', vehicle: 'ZZS-101/101', reason: 'cancel' },
        },
      ],
    );
    const s = c.snapshot();
    expect(s.eventsTotal).toBe(3);
    expect(s.preemptions).toEqual([
      {
        atMs: now,
        approach: 'north',
        vehicle: 'ZZS-101',
        role: 'ambulance',
        latencyMs: 4.5,
        released: 'cancel',
      },
    ]);
    expect(s.rejections).toEqual({ signature: 1 });
  });

  it('notices an alarm and its relay by site name', () => {
    const c = new RegionCollector('/d', 1, () => 5_000);
    c.gateway({
      site: 'care-home',
      kind: 'building',
      state: 'online',
      gatewayId: 'gw3',
      runningVersion: 1,
      desiredVersion: 1,
      readingsPerS: 0,
    });
    c.telemetry(
      'gw3',
      [],
      [
        { bootEpoch: 1, seq: 1, ts: 5_000, kind: 'alarm.raised', data: { alarm: 'sos', alarmKind: 'sos' } },
        { bootEpoch: 1, seq: 2, ts: 5_000, kind: 'relay.switched', data: { relay: 'alarm-light', on: true } },
      ],
    );
    const notices = c.snapshot().notices.join('\n');
    expect(notices).toMatch(/care-home: sos raised/);
    expect(notices).toMatch(/care-home: relay alarm-light on/);
  });

  it('reports readings per second per gateway over a sliding window', () => {
    let now = 1_000_000;
    const c = new RegionCollector('/d', 1, () => now);
    c.gateway({
      site: 'school',
      kind: 'building',
      state: 'online',
      gatewayId: 'gw2',
      runningVersion: 1,
      desiredVersion: 1,
      readingsPerS: 0,
    });
    now += 10_000;
    c.telemetry('gw2', new Array(50), []);
    now += 1_000;
    c.telemetry('gw2', new Array(50), []);
    const s = c.snapshot();
    expect(s.readingsTotal).toBe(100);
    expect(s.gateways[0]!.readingsPerS).toBeCloseTo(10, 5);
    now += 20_000;
    expect(c.snapshot().readingsPerS).toBe(0);
  });
});
