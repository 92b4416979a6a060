// Fixtures shared by the rt tests, integration scenarios and the latency bench: a four-approach
// intersection with corridors, and vehicle keys (ambulance, bus, revoked) made with fixed seeds.
import { type VehicleKeyPair, vehicleKeyFromSeed } from '@brana/hardware';
import { type PreemptionConfig, preemptionSchema } from '../../src/config/index.ts';

export const TEST_INTERSECTION_ID = 4101;
/** Stop-line centre of the test intersection (Brno, Česká × Joštova). */
export const TEST_CENTER = { lat: 49.1973, lon: 16.6063 };

function seeded(n: number): VehicleKeyPair {
  return vehicleKeyFromSeed(Buffer.alloc(32, n).toString('base64url'));
}

export const TEST_KEYS = {
  ambulance: seeded(1),
  ambulance2: seeded(2),
  bus: seeded(3),
  revoked: seeded(4),
  /** Not in the config at all. */
  stranger: seeded(5),
} as const;

/** Approach numbers 1..4 = north, east, south, west; heading is the direction of travel inbound. */
export const TEST_APPROACHES = [
  { id: 'north', number: 1, headingDeg: 180 },
  { id: 'east', number: 2, headingDeg: 270 },
  { id: 'south', number: 3, headingDeg: 0 },
  { id: 'west', number: 4, headingDeg: 90 },
] as const;

export function testPreemptionDoc(overrides: { timing?: Record<string, number> } = {}) {
  return {
    intersectionId: TEST_INTERSECTION_ID,
    approaches: TEST_APPROACHES.map((a) => ({
      id: a.id,
      number: a.number,
      output: `relay-${a.id}`,
      readback: `rb-${a.id}`,
      corridor: {
        headingDeg: a.headingDeg,
        headingToleranceDeg: 45,
        centerLat: TEST_CENTER.lat,
        centerLon: TEST_CENTER.lon,
        radiusM: 800,
      },
    })),
    conflicts: {
      north: ['east', 'west'],
      south: ['east', 'west'],
      east: ['north', 'south'],
      west: ['north', 'south'],
    },
    heartbeat: { output: 'heartbeat', periodMs: 5 },
    vehicleKeys: [
      { id: 'amb-1', publicKey: TEST_KEYS.ambulance.publicKeyB64u, roles: ['ambulance', 'fire'] },
      { id: 'amb-2', publicKey: TEST_KEYS.ambulance2.publicKeyB64u, roles: ['ambulance'] },
      { id: 'bus-1', publicKey: TEST_KEYS.bus.publicKeyB64u, roles: ['transit'] },
      { id: 'old-1', publicKey: TEST_KEYS.revoked.publicKeyB64u, roles: ['ambulance'], revoked: true },
    ],
    timing: { minGapS: 0, selfTestMs: 50, ...overrides.timing },
  };
}

export function testPreemptionConfig(overrides: { timing?: Record<string, number> } = {}): PreemptionConfig {
  return preemptionSchema.parse(testPreemptionDoc(overrides));
}

/** A point `distanceM` metres from the centre in the direction a vehicle comes from on `approach`. */
export function pointOnApproach(approach: number, distanceM: number): { latDeg: number; lonDeg: number } {
  const a = TEST_APPROACHES[approach - 1];
  if (a === undefined) return { latDeg: TEST_CENTER.lat, lonDeg: TEST_CENTER.lon };
  // The vehicle comes from the opposite of its heading.
  const from = ((a.headingDeg + 180) % 360) * (Math.PI / 180);
  const dLat = (distanceM * Math.cos(from)) / 111_320;
  const dLon = (distanceM * Math.sin(from)) / (111_320 * Math.cos(TEST_CENTER.lat * (Math.PI / 180)));
  return { latDeg: TEST_CENTER.lat + dLat, lonDeg: TEST_CENTER.lon + dLon };
}
