// Vehicles at the intersection during a chaos run: ambulances (two on the serial radio, one on UDP)
// and buses drive real signed request/update/cancel sequences, and every frame's send time is kept
// so that the safety check can say, frame by frame, whether an emergency request was served in
// time. The flood runs in its own process (flood.ts) so that it never slows this one.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FrameLink, serialLink, udpLink, VehicleUnit } from '@brana/hardware';
import { approachPoint } from '../start/configs.ts';
import type { RegionFile } from '../start/region-file.ts';
import { counterNow, type SimVehicle } from '../start/vehicles.ts';
import { between, pick, type Random } from './random.ts';

export interface SentFrame {
  type: 'request' | 'update' | 'cancel';
  /** performance.now() when it was handed to the link. */
  atMs: number;
}

export interface Run {
  vehicle: string;
  role: SimVehicle['role'];
  link: 'radio' | 'udp';
  approach: string;
  frames: SentFrame[];
  done: boolean;
}

export interface TrafficOptions {
  intersection: RegionFile['intersection'];
  vehicles: readonly SimVehicle[];
  udpPort: number;
  radioPath: string | null;
  random: Random;
  /** Mean seconds between ambulance runs and between bus runs. */
  ambulanceEveryS: number;
  busEveryS: number;
  onProblem(message: string): void;
}

export class Traffic {
  readonly runs: Run[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly busy = new Set<string>();
  private readonly counters = new Map<string, number>();
  private udp: FrameLink | null = null;
  private radio: FrameLink | null = null;
  private stopped = false;
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly o: TrafficOptions) {}

  async start(): Promise<void> {
    this.udp = udpLink(this.o.udpPort, '127.0.0.1');
    if (this.o.radioPath) {
      try {
        this.radio = await serialLink(this.o.radioPath);
      } catch (err) {
        this.o.onProblem(`radio ${this.o.radioPath}: ${(err as Error).message}; radio vehicles use UDP`);
      }
    }
    this.schedule(true, 3000);
    // A bus soon after the start, unless buses are meant to be rare.
    this.schedule(false, this.o.busEveryS >= 600 ? this.o.busEveryS * 1000 : 8000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.active]);
    await this.udp?.close().catch(() => undefined);
    await this.radio?.close().catch(() => undefined);
  }

  private schedule(emergency: boolean, delayMs: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const p = this.runOnce(emergency).catch((err: unknown) => {
        if (!this.stopped) this.o.onProblem(`vehicle run failed: ${(err as Error).message}`);
      });
      this.active.add(p);
      void p.finally(() => this.active.delete(p));
      const mean = emergency ? this.o.ambulanceEveryS : this.o.busEveryS;
      this.schedule(emergency, Math.max(2000, between(this.o.random, 0.5, 1.5) * mean * 1000));
    }, delayMs);
    this.timers.add(t);
  }

  private async runOnce(emergency: boolean): Promise<void> {
    const x = this.o.intersection;
    const candidates = this.o.vehicles.filter(
      (v) => (v.role !== 'transit') === emergency && !this.busy.has(v.name),
    );
    if (candidates.length === 0 || this.stopped) return;
    const v = pick(this.o.random, candidates);
    const approach = pick(this.o.random, x.approaches);
    this.busy.add(v.name);
    const link = v.link === 'radio' && this.radio ? this.radio : this.udp!;
    const run: Run = {
      vehicle: v.name,
      role: v.role,
      link: link === this.radio ? 'radio' : 'udp',
      approach: approach.id,
      frames: [],
      done: false,
    };
    this.runs.push(run);
    // Counters rise across runs and restarts (the gateway remembers what it saw).
    const counter = Math.max(counterNow(), (this.counters.get(v.name) ?? 0) + 1);
    this.counters.set(v.name, counter + 400);
    const unit = new VehicleUnit({
      privateKey: v.privateKey,
      vehicleId: v.vehicleId,
      role: v.role,
      intersectionId: x.intersectionId,
      counter,
    });
    const speedMps = emergency ? 14 : 9;
    const send = async (type: SentFrame['type'], distanceM: number) => {
      const frame = unit.frame(type, {
        inbound: approach.number,
        etaS: distanceM / speedMps,
        headingDeg: approach.headingDeg,
        speedMps,
        ...approachPoint(x.center, approach.headingDeg, distanceM),
      });
      run.frames.push({ type, atMs: performance.now() });
      await link.send(frame);
    };
    try {
      let type: SentFrame['type'] = 'request';
      for (let d = emergency ? 250 : 180; d > 0 && !this.stopped; d -= speedMps / 2) {
        await send(type, d);
        type = 'update';
        await new Promise((r) => setTimeout(r, 500));
      }
      await send('cancel', 0);
    } finally {
      run.done = true;
      this.busy.delete(v.name);
    }
  }
}

export interface FloodKeys {
  /** PKCS#8 PEM of the compromised transit key. */
  privateKeyPem: string;
  /** Public key (base64url) of a trusted vehicle, whose key hint forged frames claim. */
  trustedPublicKey: string;
}

/** The flood: a child process sending UDP priority frames at `perS` until stopped. */
export class Flood {
  private child: ChildProcess | undefined;
  bursts = 0;

  constructor(
    private readonly o: {
      dir: string;
      udpPort: number;
      intersection: RegionFile['intersection'];
      keys: FloodKeys;
      logFile: string;
    },
  ) {
    writeFileSync(join(o.dir, 'flood-keys.json'), JSON.stringify(o.keys), { mode: 0o600 });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(perS: number): void {
    if (this.child) return;
    this.bursts++;
    const x = this.o.intersection;
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'flood.ts'),
        '--port',
        String(this.o.udpPort),
        '--per-s',
        String(perS),
        '--keys',
        join(this.o.dir, 'flood-keys.json'),
        '--intersection',
        JSON.stringify({
          id: x.intersectionId,
          center: x.center,
          approaches: x.approaches.map((a) => ({ number: a.number, headingDeg: a.headingDeg })),
        }),
      ],
      { stdio: 'ignore' },
    );
    const child = this.child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }
}

export { pick };
