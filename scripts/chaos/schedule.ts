// The fault schedule of a chaos run, made in advance from the seed: which fault, on what, when and
// for how long. Pure, so that one seed always gives the same run and a property test can check it.
import { between, pick, type Random, seededRandom, weighted } from './random.ts';

export type NetMode = 'cut' | 'reset' | 'stall' | 'drop';
export const NET_MODES: readonly NetMode[] = ['cut', 'reset', 'stall', 'drop'];

export type Fault =
  /** kill -9 of one process: `fleet` or `<site>/<process>` (agent, rt, fieldbus, node-red). */
  | { kind: 'kill'; target: string }
  /** The gateway↔fleet network through the proxy: blackholed, reset, stalled or closed, then back. */
  | { kind: 'net'; mode: NetMode; forMs: number }
  /** A gateway's data disk filled to its last byte, then freed. */
  | { kind: 'disk'; site: string; forMs: number }
  /** A gateway's wall clock stepped by offsetS (as a bad NTP step would), then stepped back. */
  | { kind: 'clock'; site: string; offsetS: number; forMs: number }
  /** The meters' simulated world clock jumps forward by offsetS (the gap a meter sees after a stall). */
  | { kind: 'world-clock'; offsetS: number }
  /** The priority inputs flooded with forged frames and a compromised transit key. */
  | { kind: 'flood'; forMs: number; perS: number };

export type FaultKind = Fault['kind'];
export type PlannedFault = Fault & { atMs: number };

export interface ScheduleTargets {
  /** Processes that may be killed: `fleet`, `<site>/<process>`. */
  processes: readonly string[];
  /** Sites whose data disk can be filled (empty when no small filesystem could be mounted). */
  disks: readonly string[];
  /** Sites whose wall clock can be stepped (empty without libfaketime). */
  clocks: readonly string[];
  /** Whether there is a priority input to flood. */
  flood: boolean;
}

export interface ScheduleOptions {
  seed: number;
  /** Faults start after this (the region settles first). */
  startMs: number;
  /** No fault starts at or after this, and every timed fault is over by it. */
  endMs: number;
  /** Mean faults per minute. */
  perMinute: number;
  targets: ScheduleTargets;
  /** Frames per second of a flood. */
  floodPerS: number;
  weights?: Partial<Record<FaultKind, number>>;
}

export const DEFAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  kill: 56,
  net: 14,
  disk: 9,
  clock: 9,
  'world-clock': 3,
  flood: 9,
};

/** A process is not killed again sooner than this after its last kill (it must come back first). */
export const KILL_COOLDOWN_MS = 5000;
/** The smallest gap between two faults. */
const MIN_GAP_MS = 250;
/** Wall-clock steps: a few seconds (drift corrected), a minute, an hour, forwards and backwards. */
const CLOCK_STEPS_S = [2, 7, 45, 600, 3600];

/** The target a fault occupies while it lasts; two faults on one target never overlap. */
export function faultTarget(f: Fault): string {
  switch (f.kind) {
    case 'kill':
      return f.target;
    case 'net':
      return 'network';
    case 'disk':
      return `${f.site}/disk`;
    case 'clock':
      return `${f.site}/clock`;
    case 'world-clock':
      return 'world-clock';
    case 'flood':
      return 'flood';
  }
}

/** How long a fault keeps its target busy. */
export function faultBusyMs(f: Fault): number {
  switch (f.kind) {
    case 'kill':
      return KILL_COOLDOWN_MS;
    case 'world-clock':
      return 10_000;
    default:
      return f.forMs + 1000;
  }
}

function draw(kind: FaultKind, r: Random, o: ScheduleOptions, room: number): Fault | null {
  const t = o.targets;
  switch (kind) {
    case 'kill':
      return t.processes.length ? { kind, target: pick(r, t.processes) } : null;
    case 'net':
      return { kind, mode: pick(r, NET_MODES), forMs: Math.round(Math.min(room, between(r, 2000, 20_000))) };
    case 'disk':
      return t.disks.length
        ? { kind, site: pick(r, t.disks), forMs: Math.round(Math.min(room, between(r, 4000, 30_000))) }
        : null;
    case 'clock': {
      if (!t.clocks.length) return null;
      const offsetS = pick(r, CLOCK_STEPS_S) * (r() < 0.5 ? -1 : 1);
      return {
        kind,
        site: pick(r, t.clocks),
        offsetS,
        forMs: Math.round(Math.min(room, between(r, 4000, 25_000))),
      };
    }
    case 'world-clock':
      return { kind, offsetS: pick(r, [60, 900, 3600]) };
    case 'flood':
      return t.flood
        ? { kind, forMs: Math.round(Math.min(room, between(r, 3000, 15_000))), perS: o.floodPerS }
        : null;
  }
}

/** The whole schedule, sorted by time. */
export function planFaults(o: ScheduleOptions): PlannedFault[] {
  const r = seededRandom(o.seed);
  const weights = { ...DEFAULT_WEIGHTS, ...o.weights };
  const meanGapMs = 60_000 / o.perMinute;
  const busyUntil = new Map<string, number>();
  const out: PlannedFault[] = [];
  let at = o.startMs;
  for (;;) {
    // Exponential gaps: faults come as a Poisson process, sometimes close together.
    at += Math.max(MIN_GAP_MS, Math.round(-Math.log(1 - r()) * meanGapMs));
    if (at >= o.endMs) break;
    // Timed faults must be over by the end, with a second to spare for the restore.
    const room = o.endMs - at - 1000;
    for (let attempt = 0; attempt < 8; attempt++) {
      const f = draw(weighted(r, weights), r, o, room);
      if (f === null) continue;
      if ('forMs' in f && f.forMs < 1000) continue;
      const target = faultTarget(f);
      if ((busyUntil.get(target) ?? Number.NEGATIVE_INFINITY) > at) continue;
      busyUntil.set(target, at + faultBusyMs(f));
      out.push({ ...f, atMs: at });
      break;
    }
  }
  return out;
}

/** One line for the progress log and the fault list. */
export function describeFault(f: Fault): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (f.kind) {
    case 'kill':
      return `kill -9 ${f.target}`;
    case 'net':
      return `network ${f.mode} for ${s(f.forMs)}`;
    case 'disk':
      return `${f.site} data disk full for ${s(f.forMs)}`;
    case 'clock':
      return `${f.site} clock ${f.offsetS > 0 ? '+' : ''}${f.offsetS} s for ${s(f.forMs)}`;
    case 'world-clock':
      return `meters' clock +${f.offsetS} s`;
    case 'flood':
      return `priority flood ${f.perS}/s for ${s(f.forMs)}`;
  }
}
