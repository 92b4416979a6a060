// Simulated traffic at the intersection: ambulances every minute or so from a random approach, a
// bus now and then, and an occasional forged request that the gateway must reject. Vehicles speak
// the real signed priority-request frames over the serial radio pty or UDP (@brana/hardware).
import type { KeyObject } from 'node:crypto';
import {
  driveRoute,
  encodeSignedFrame,
  type FrameLink,
  generateVehicleKey,
  keyHintOf,
  serialLink,
  udpLink,
  VehicleUnit,
} from '@brana/hardware';
import { approachPoint } from './configs.ts';
import type { RegionFile } from './region-file.ts';

export type RunKind = 'ambulance' | 'bus' | 'forged';
export const FORGERIES = [
  'unknown-key',
  'bad-signature',
  'wrong-intersection',
  'wrong-role',
  'replay',
] as const;
export type Forgery = (typeof FORGERIES)[number];

export interface VehicleRun {
  kind: RunKind;
  vehicle: string;
  role: string;
  approach: string;
  /** performance.now() when the first frame left; null until then. */
  firstSentAt: number | null;
  startedWallMs: number;
  forgery?: Forgery;
}

export interface SimVehicle {
  name: string;
  vehicleId: number;
  role: 'ambulance' | 'fire' | 'police' | 'transit';
  link: 'radio' | 'udp';
  privateKey: KeyObject;
  publicKey: string;
}

export interface VehicleSimulatorOptions {
  intersection: RegionFile['intersection'];
  vehicles: readonly SimVehicle[];
  udpPort: number;
  /** The vehicle side of the radio pty pair; null: radio vehicles use UDP too. */
  radioPath: string | null;
  everyS: Record<RunKind, number>;
  random: () => number;
  onRun(run: VehicleRun): void;
  onProblem(message: string): void;
}

/** Milliseconds to the next run: between half and one and a half of the mean, never under 3 s. */
export function nextDelayMs(meanS: number, random: () => number): number {
  return Math.max(3000, meanS * 1000 * (0.5 + random()));
}

// Message counters must rise across restarts of the region (the gateway remembers what it saw), so
// they come from the wall clock in 50 ms steps; a vehicle sends at most 2 frames a second.
const COUNTER_EPOCH_MS = Date.UTC(2026, 0, 1);
export function counterNow(nowMs = Date.now()): number {
  return Math.floor((nowMs - COUNTER_EPOCH_MS) / 50) >>> 0;
}

/** A wrapper that notes when the first frame of a run went out. */
function timedLink(link: FrameLink, run: VehicleRun): FrameLink {
  return {
    send: async (frame) => {
      if (run.firstSentAt === null) run.firstSentAt = performance.now();
      await link.send(frame);
    },
    close: async () => {},
  };
}

export class VehicleSimulator {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly active = new Set<Promise<unknown>>();
  private udp: FrameLink | null = null;
  private radio: FrameLink | null = null;
  private stopped = false;
  private lastFrame: Buffer | null = null;
  /** Highest message counter handed out per vehicle, and vehicles on a run now. */
  private readonly counters = new Map<string, number>();
  private readonly busy = new Set<string>();

  constructor(private readonly o: VehicleSimulatorOptions) {}

  async start(): Promise<void> {
    this.udp = udpLink(this.o.udpPort, '127.0.0.1');
    if (this.o.radioPath !== null) {
      try {
        this.radio = await serialLink(this.o.radioPath);
      } catch (err) {
        this.o.onProblem(`radio link ${this.o.radioPath}: ${(err as Error).message}; radio vehicles use UDP`);
      }
    }
    // The first ambulance comes soon, so a newcomer sees one within a quarter of a minute.
    this.schedule('ambulance', Math.min(15_000, this.o.everyS.ambulance * 1000));
    this.schedule('bus', Math.min(40_000, nextDelayMs(this.o.everyS.bus, this.o.random)));
    this.schedule('forged', Math.min(30_000, nextDelayMs(this.o.everyS.forged, this.o.random)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Runs in progress are cut short: their next frame finds the link closed (the gateway then
    // releases on loss of updates, as it would for a vehicle whose radio died).
    await Promise.race([Promise.allSettled([...this.active]), new Promise((r) => setTimeout(r, 600))]);
    await this.udp?.close().catch(() => {});
    await this.radio?.close().catch(() => {});
  }

  /**
   * A first counter for a run of `v`: above anything it sent before (a run sends far fewer than
   * 200 frames) and not below the wall-clock counter, so it also rises across restarts.
   */
  private allocCounter(v: SimVehicle): number {
    const c = Math.max(counterNow(), (this.counters.get(v.name) ?? 0) + 1);
    this.counters.set(v.name, c + 200);
    return c;
  }

  /** Starts one run now (the scheduler's path; tests call it to avoid waiting). */
  run(kind: RunKind): Promise<VehicleRun | null> {
    const p = this.runOnce(kind).catch((err: unknown) => {
      if (!this.stopped) this.o.onProblem(`${kind} run failed: ${(err as Error).message}`);
      return null;
    });
    this.active.add(p);
    void p.finally(() => this.active.delete(p));
    return p;
  }

  private schedule(kind: RunKind, delayMs: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.run(kind);
      this.schedule(kind, nextDelayMs(this.o.everyS[kind], this.o.random));
    }, delayMs);
    this.timers.add(t);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.o.random() * items.length)]!;
  }

  private linkFor(v: SimVehicle): FrameLink {
    return v.link === 'radio' && this.radio ? this.radio : this.udp!;
  }

  private async runOnce(kind: RunKind): Promise<VehicleRun | null> {
    const x = this.o.intersection;
    const approach = this.pick(x.approaches);
    const transit = kind === 'bus';
    // A vehicle unit on a run keeps its key to itself: one run per vehicle at a time.
    const candidates = this.o.vehicles.filter(
      (v) => (v.role === 'transit') === transit && !this.busy.has(v.name),
    );
    if (candidates.length === 0) return null;
    const vehicle = this.pick(candidates);
    this.busy.add(vehicle.name);
    try {
      return await this.runWith(kind, vehicle, approach);
    } finally {
      this.busy.delete(vehicle.name);
    }
  }

  private async runWith(
    kind: RunKind,
    vehicle: SimVehicle,
    approach: RegionFile['intersection']['approaches'][number],
  ): Promise<VehicleRun> {
    const x = this.o.intersection;
    const run: VehicleRun = {
      kind,
      vehicle: vehicle.name,
      role: vehicle.role,
      approach: approach.id,
      firstSentAt: null,
      startedWallMs: Date.now(),
    };
    if (kind === 'forged') return this.forge(run, approach, vehicle);
    this.o.onRun(run);
    const unit = new VehicleUnit({
      privateKey: vehicle.privateKey,
      vehicleId: vehicle.vehicleId,
      role: vehicle.role,
      intersectionId: x.intersectionId,
      counter: this.allocCounter(vehicle),
    });
    const speedMps = kind === 'bus' ? 9 : 14;
    const link = timedLink(this.linkFor(vehicle), run);
    const capture: FrameLink = {
      send: async (frame) => {
        this.lastFrame = Buffer.from(frame);
        await link.send(frame);
      },
      close: async () => {},
    };
    await driveRoute(unit, capture, {
      inbound: approach.number,
      headingDeg: approach.headingDeg,
      positionAt: (d) => approachPoint(x.center, approach.headingDeg, d),
      startDistanceM: kind === 'bus' ? 180 : 250,
      speedMps,
      updateHz: 2,
    });
    return run;
  }

  /** One frame that a correct gateway must refuse, of a randomly chosen kind of forgery. */
  private async forge(
    run: VehicleRun,
    approach: RegionFile['intersection']['approaches'][number],
    trusted: SimVehicle,
  ): Promise<VehicleRun> {
    const x = this.o.intersection;
    const forgery: Forgery = this.lastFrame ? this.pick(FORGERIES) : this.pick(FORGERIES.slice(0, 4));
    run.forgery = forgery;
    run.vehicle = forgery === 'unknown-key' ? 'unknown' : trusted.name;
    run.role = 'ambulance';
    this.o.onRun(run);
    const link = timedLink(this.udp!, run);
    if (forgery === 'replay') {
      await link.send(this.lastFrame!);
      return run;
    }
    const at = approachPoint(x.center, approach.headingDeg, 150);
    const fields = {
      type: 'request' as const,
      role: 'ambulance' as const,
      importance: 14,
      inbound: approach.number,
      outbound: 0,
      requestId: 1,
      counter: this.allocCounter(trusted),
      intersectionId: forgery === 'wrong-intersection' ? x.intersectionId + 1 : x.intersectionId,
      vehicleId: forgery === 'unknown-key' ? 666 : trusted.vehicleId,
      etaS: 10,
      latDeg: at.latDeg,
      lonDeg: at.lonDeg,
      headingDeg: approach.headingDeg,
      speedMps: 14,
      generatedMs: Date.now(),
    };
    let frame: Buffer;
    if (forgery === 'unknown-key') {
      frame = encodeSignedFrame(fields, generateVehicleKey().privateKey);
    } else if (forgery === 'bad-signature') {
      // Claims to be a trusted vehicle (its key hint) but is signed with another key.
      frame = encodeSignedFrame(
        { ...fields, keyHint: keyHintOf(trusted.publicKey) },
        generateVehicleKey().privateKey,
      );
    } else if (forgery === 'wrong-role') {
      // A bus key asking as an ambulance: signed correctly, but the key may not use that role.
      const bus = this.o.vehicles.find((v) => v.role === 'transit' && !this.busy.has(v.name)) ?? trusted;
      run.vehicle = bus.name;
      frame = encodeSignedFrame(
        { ...fields, vehicleId: bus.vehicleId, counter: this.allocCounter(bus) },
        bus.privateKey,
      );
    } else {
      frame = encodeSignedFrame(fields, trusted.privateKey);
    }
    await link.send(frame);
    return run;
  }
}
