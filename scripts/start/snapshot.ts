// What the live view shows: a plain snapshot of the running region, built by the collector and
// rendered by view.ts. No live objects in here, so the renderer stays a pure function.

/** A part of the region and whether it is up; 'missing' means its package does not offer it yet. */
export type PartState = 'starting' | 'running' | 'missing' | 'failed' | 'stopped';

export interface PartStatus {
  name: string;
  state: PartState;
  detail?: string;
}

export type GatewayState = 'starting' | 'enrolling' | 'online' | 'offline' | 'missing' | 'failed';

export interface GatewayRow {
  site: string;
  kind: 'intersection' | 'building';
  state: GatewayState;
  gatewayId: string | null;
  /** Config version the gateway reports running, and the one its rollout wants. */
  runningVersion: number | null;
  desiredVersion: number | null;
  readingsPerS: number;
  /** The firmware processes the agent supervises, e.g. "rt running" or "fieldbus backoff ×3". */
  firmware?: string;
  detail?: string;
}

export interface PreemptionRow {
  atMs: number;
  approach: string;
  vehicle: string;
  role: string;
  /** Request received to relay asserted, ms; null while unknown. */
  latencyMs: number | null;
  /** Why the output was released (cancel, timeout, holdMax, …); null while still held. */
  released: string | null;
}

export interface RolloutRow {
  id: string;
  site: string;
  configVersion: number;
  state: string;
  applied: number;
  total: number;
}

export interface RegionSnapshot {
  nowMs: number;
  startedAtMs: number;
  dataDir: string;
  apiUrl: string | null;
  consoleUrl: string | null;
  speed: number;
  parts: PartStatus[];
  gateways: GatewayRow[];
  readingsPerS: number;
  readingsTotal: number;
  eventsTotal: number;
  preemptions: PreemptionRow[];
  rejections: Record<string, number>;
  rollouts: RolloutRow[];
  /** Vehicle runs started by the simulator, by kind. */
  runs: { ambulance: number; bus: number; forged: number };
  /** Newest last; the view shows the last few. */
  notices: string[];
}

export function emptySnapshot(nowMs: number, dataDir: string, speed: number): RegionSnapshot {
  return {
    nowMs,
    startedAtMs: nowMs,
    dataDir,
    apiUrl: null,
    consoleUrl: null,
    speed,
    parts: [],
    gateways: [],
    readingsPerS: 0,
    readingsTotal: 0,
    eventsTotal: 0,
    preemptions: [],
    rejections: {},
    rollouts: [],
    runs: { ambulance: 0, bus: 0, forged: 0 },
    notices: [],
  };
}
