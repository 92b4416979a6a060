// Gateway configs for the simulated sites, built from the region description and where the bench
// rigs can be reached. They go to the fleet server, which validates and signs them, and reach the
// gateways through a rollout, exactly as an operator's config would.
import type { RigEndpoints } from '@brana/hardware';
import type { RegionFile, SitePlan } from './region-file.ts';

/** The JSON a gateway config document carries (validated by @brana/firmware on server and gateway). */
export type GatewayConfigDoc = Record<string, unknown>;

export interface VehicleKeyRecord {
  name: string;
  vehicleId: number;
  role: 'ambulance' | 'fire' | 'police' | 'transit';
  link: 'radio' | 'udp';
  /** Ed25519 public key, 32 raw bytes base64url. */
  publicKey: string;
}

export interface IntersectionLinks {
  /** The gateway's end of the serial radio pty pair. */
  radioPath: string | null;
  radioBaud: number;
  /** UDP port the rt process listens on for dispatch and cellular vehicle units. */
  udpPort: number;
}

const METRES_PER_DEGREE_LAT = 111_320;

/** A point `distanceM` from the centre, on the side a vehicle with `headingDeg` comes from. */
export function approachPoint(
  center: { lat: number; lon: number },
  headingDeg: number,
  distanceM: number,
): { latDeg: number; lonDeg: number } {
  const from = ((headingDeg + 180) % 360) * (Math.PI / 180);
  const north = Math.cos(from) * distanceM;
  const east = Math.sin(from) * distanceM;
  return {
    latDeg: center.lat + north / METRES_PER_DEGREE_LAT,
    lonDeg: center.lon + east / (METRES_PER_DEGREE_LAT * Math.cos((center.lat * Math.PI) / 180)),
  };
}

function telemetry() {
  // Short upload interval so the live view moves; a field gateway would batch longer.
  return { uploadIntervalS: 2, batchSize: 500 };
}

export function intersectionConfig(
  region: RegionFile,
  site: SitePlan,
  endpoints: RigEndpoints,
  keys: readonly VehicleKeyRecord[],
  links: IntersectionLinks,
): GatewayConfigDoc {
  const x = region.intersection;
  return {
    name: `${site.name} (signal cabinet)`,
    site: site.site,
    hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: endpoints.wires.socket } },
    preemption: {
      intersectionId: x.intersectionId,
      approaches: x.approaches.map((a) => ({
        id: a.id,
        name: `${a.id} approach`,
        number: a.number,
        output: `preempt.${a.id}`,
        readback: `readback.${a.id}`,
        corridor: {
          headingDeg: a.headingDeg,
          headingToleranceDeg: 45,
          centerLat: x.center.lat,
          centerLon: x.center.lon,
          radiusM: x.corridorRadiusM,
        },
      })),
      conflicts: x.conflicts,
      // 20 ms rather than the default 10 ms: the bench wire bus is shared by many processes here.
      heartbeat: { output: 'heartbeat', periodMs: 20 },
      inputs: {
        ...(links.radioPath === null ? {} : { radio: { path: links.radioPath, baud: links.radioBaud } }),
        udp: { port: links.udpPort, host: '127.0.0.1' },
      },
      vehicleKeys: keys.map((k) => ({ id: k.name, publicKey: k.publicKey, roles: [k.role] })),
      // The readback comes from the traffic-controller model in another process's event loop on a
      // shared machine, not from a relay's auxiliary contact: give it 1 s instead of 100 ms before a
      // mismatch counts as a stuck contact (a fault that switches preemption off).
      timing: { readbackSettleMs: 1000 },
    },
    telemetry: telemetry(),
  };
}

export function buildingConfig(site: SitePlan, endpoints: RigEndpoints): GatewayConfigDoc {
  const slug = (name: string) =>
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  const buses = endpoints.rtu.map((b) => ({
    name: b.bus,
    type: 'rtu',
    path: b.path,
    baud: b.baud,
    parity: b.parity,
  }));
  const devices = endpoints.rtu.flatMap((b) =>
    b.devices.map((d) => ({
      name: slug(d.name ?? `${d.profile}-${d.unit}`),
      bus: b.bus,
      unit: d.unit,
      profile: d.profile,
      // Fast points every 5 s: five devices share one 9600 Bd line.
      pollFastMs: 5000,
      pollSlowMs: 60_000,
    })),
  );
  const config: GatewayConfigDoc = {
    name: `${site.name} (main switchboard)`,
    site: site.site,
    hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: endpoints.wires.socket } },
    buses,
    devices,
    telemetry: telemetry(),
  };
  if (site.kind === 'school') {
    config.pulses = [{ name: 'water', line: 's0.water', profile: 's0-water-10l', debounceMs: 20 }];
  }
  if (site.kind === 'care-home') {
    config.alarms = [{ name: 'sos', kind: 'sos', line: 'sos.button', activeLevel: 1, debounceMs: 50 }];
    config.relays = [
      { name: 'alarm-light', line: 'alarm.relay', activeLevel: 1, rules: [{ when: 'sos', holdS: 30 }] },
    ];
  }
  return config;
}
