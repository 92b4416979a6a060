// `kill -9` of the rt process while an approach is asserted: nothing in the process can switch
// the relay off any more; the external retriggerable dead-man must, once heartbeats stop.
import { VehicleUnit } from '@brana/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointOnApproach, TEST_INTERSECTION_ID, TEST_KEYS } from '../test/support/rt-fixtures.ts';
import { type RtBench, startRtBench } from './rt-harness.ts';

let bench: RtBench;
const DEADMAN_MS = 100;

beforeAll(async () => {
  bench = await startRtBench({ deadmanMs: DEADMAN_MS, timing: { updateTimeoutS: 30, holdMaxS: 1.5 } });
}, 60_000);
afterAll(async () => {
  await bench?.close();
});

describe('maximum hold', () => {
  it('an approach held beyond holdMaxS is released and faulted, and stays off', async () => {
    const udp = bench.udp();
    const v = new VehicleUnit({
      privateKey: TEST_KEYS.ambulance.privateKey,
      vehicleId: 2,
      role: 'ambulance',
      intersectionId: TEST_INTERSECTION_ID,
    });
    const south = { inbound: 3, etaS: 5, headingDeg: 0, speedMps: 12, ...pointOnApproach(3, 150) };
    // Timed from the request: a late look at the closed contact cannot shorten the measured hold.
    const t0 = performance.now();
    await udp.send(v.frame('request', south));
    await bench.model.waitFor(() => bench.model.isClosed('south'), 5000, 'south closed');
    // The vehicle keeps updating: only holdMaxS can end this assertion.
    const timer = setInterval(() => void udp.send(v.frame('update', south)), 200);
    try {
      await bench.model.waitFor(() => !bench.model.isClosed('south'), 4000, 'south released at hold max');
      expect(performance.now() - t0).toBeGreaterThan(1400); // holdMaxS 1.5
      await bench.waitForEvent(
        (e) => e.type === 'preemption.fault' && e.data.approach === 'south',
        2000,
        'fault',
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(bench.model.isClosed('south')).toBe(false);
    } finally {
      clearInterval(timer);
    }
  });
});

describe('rt process killed while asserted', () => {
  it('the dead-man opens the contact once heartbeats stop, though the relay output stays driven', async () => {
    const udp = bench.udp();
    const v = new VehicleUnit({
      privateKey: TEST_KEYS.ambulance.privateKey,
      vehicleId: 1,
      role: 'ambulance',
      intersectionId: TEST_INTERSECTION_ID,
    });
    await udp.send(
      v.frame('request', { inbound: 1, etaS: 5, headingDeg: 180, speedMps: 12, ...pointOnApproach(1, 150) }),
    );
    await bench.model.waitFor(() => bench.model.isClosed('north'), 5000, 'north closed');
    const killedAt = performance.now();
    bench.child.kill('SIGKILL');
    await bench.model.waitFor(() => !bench.model.isClosed('north'), 2000, 'dead-man release');
    const releasedAfterMs = performance.now() - killedAt;
    // The relay line itself is still 1: only the dead-man released the contact.
    expect(await bench.wires.bus.read('relay-north')).toBe(1);
    expect(bench.model.changes.at(-1)).toMatchObject({ approach: 'north', closed: false, cause: 'deadman' });
    expect(releasedAfterMs).toBeGreaterThanOrEqual(DEADMAN_MS - 20);
    expect(releasedAfterMs).toBeLessThan(DEADMAN_MS + 1000);
    expect(bench.model.violations).toEqual([]);
  });
});
