// Gathers what the live view shows: telemetry as it reaches the fleet server (readings per second,
// preemption events, rejections by reason), gateway and rollout state from the fleet API, vehicle
// runs from the simulator and contact changes seen by the traffic-controller model (latency).
import {
  emptySnapshot,
  type GatewayRow,
  type PartState,
  type PartStatus,
  type PreemptionRow,
  type RegionSnapshot,
  type RolloutRow,
} from './snapshot.ts';
import type { VehicleRun } from './vehicles.ts';

const RATE_WINDOW_MS = 10_000;
const MAX_PREEMPTIONS = 50;
const MAX_NOTICES = 50;

/** An event record as the fleet server's bus passes it on (the wire protocol's EventRecordInput). */
export interface TelemetryEventRecord {
  bootEpoch?: number;
  seq?: number;
  ts?: number;
  kind?: string;
  data?: Record<string, unknown>;
}

export interface ContactChangeLike {
  approach: string;
  closed: boolean;
  atMs: number;
}

export class RegionCollector {
  readonly snap: RegionSnapshot;
  private readonly readingTimes = new Map<string, { atMs: number; n: number }[]>();
  private readonly siteByGateway = new Map<string, string>();
  private readonly seenEvents = new Set<string>();
  private readonly runs: VehicleRun[] = [];
  /** Contact closings not yet matched to a run: approach → performance.now() times. */
  private readonly closings: ContactChangeLike[] = [];

  constructor(
    dataDir: string,
    speed: number,
    private readonly now: () => number = Date.now,
  ) {
    this.snap = emptySnapshot(now(), dataDir, speed);
  }

  part(name: string, state: PartState, detail?: string): void {
    const next: PartStatus = { name, state, ...(detail === undefined ? {} : { detail }) };
    const i = this.snap.parts.findIndex((p) => p.name === name);
    if (i >= 0) this.snap.parts[i] = next;
    else this.snap.parts.push(next);
  }

  notice(line: string): void {
    const stamp = new Date(this.now()).toISOString().slice(11, 19);
    this.snap.notices.push(`${stamp} ${line}`);
    if (this.snap.notices.length > MAX_NOTICES)
      this.snap.notices.splice(0, this.snap.notices.length - MAX_NOTICES);
  }

  gateway(row: GatewayRow): void {
    const existing = this.snap.gateways.find((g) => g.site === row.site);
    if (existing) Object.assign(existing, row);
    else this.snap.gateways.push(row);
    if (row.gatewayId) this.siteByGateway.set(row.gatewayId, row.site);
  }

  gatewayRow(site: string): GatewayRow | undefined {
    return this.snap.gateways.find((g) => g.site === site);
  }

  rollouts(rows: RolloutRow[]): void {
    this.snap.rollouts = rows;
  }

  run(run: VehicleRun): void {
    this.runs.push(run);
    if (this.runs.length > 100) this.runs.shift();
    this.snap.runs[run.kind]++;
  }

  /** A contact closed at the controller: the end of the request → relay path. */
  contact(change: ContactChangeLike): void {
    if (!change.closed) return;
    this.closings.push(change);
    if (this.closings.length > 100) this.closings.shift();
    this.matchLatencies();
  }

  telemetry(gatewayId: string, readings: readonly unknown[], events: readonly TelemetryEventRecord[]): void {
    const t = this.now();
    if (readings.length > 0) {
      const list = this.readingTimes.get(gatewayId) ?? [];
      list.push({ atMs: t, n: readings.length });
      this.readingTimes.set(gatewayId, list);
      this.snap.readingsTotal += readings.length;
    }
    for (const e of events) {
      // Resent batches carry records the server already has: count each (bootEpoch, seq) once.
      const key = `${gatewayId}/${String(e.bootEpoch)}/${String(e.seq)}`;
      if (this.seenEvents.has(key)) continue;
      this.seenEvents.add(key);
      if (this.seenEvents.size > 20_000) this.seenEvents.clear();
      this.snap.eventsTotal++;
      this.event(e, gatewayId);
    }
  }

  private event(e: TelemetryEventRecord, gatewayId: string): void {
    const kind = String(e.kind ?? '');
    const data = (e.data ?? {}) as Record<string, unknown>;
    const at = typeof e.ts === 'number' ? e.ts : this.now();
    const approach = String(data.approach ?? '?');
    const vehicle = String(data.vehicle ?? '?');
    if (kind === 'preemption.asserted') {
      const name = vehicle.includes('/') ? vehicle.split('/')[0]! : vehicle;
      // The event names the priority class; the vehicle's own role comes from the simulator's runs.
      const run = [...this.runs].reverse().find((r) => r.vehicle === name);
      const role = run?.role ?? String(data.priority ?? '?');
      this.snap.preemptions.push({
        atMs: at,
        approach,
        vehicle: name,
        role,
        latencyMs: null,
        released: null,
      });
      if (this.snap.preemptions.length > MAX_PREEMPTIONS) this.snap.preemptions.shift();
      this.matchLatencies();
    } else if (kind === 'preemption.released') {
      const name = vehicle.includes('/') ? vehicle.split('/')[0]! : vehicle;
      const row = [...this.snap.preemptions]
        .reverse()
        .find((p) => p.approach === approach && p.released === null && (p.vehicle === name || name === '?'));
      if (row) row.released = String(data.reason ?? 'released');
    } else if (kind === 'preemption.rejected') {
      const reason = String(data.reason ?? 'unknown');
      const n = typeof data.count === 'number' ? data.count : 1;
      this.snap.rejections[reason] = (this.snap.rejections[reason] ?? 0) + n;
    } else if (kind === 'preemption.fault') {
      this.notice(`preemption fault on ${approach}: ${String(data.reason ?? '')}`);
    } else if (kind === 'alarm.raised' || kind === 'alarm.cleared') {
      const site = this.siteByGateway.get(gatewayId) ?? gatewayId;
      this.notice(
        `${site}: ${String(data.alarm ?? 'alarm')} ${kind === 'alarm.raised' ? 'raised' : 'cleared'}`,
      );
    } else if (kind === 'relay.switched') {
      this.notice(
        `${this.siteByGateway.get(gatewayId) ?? gatewayId}: relay ${String(data.relay ?? '?')} ${data.on === true ? 'on' : 'off'}`,
      );
    }
  }

  /** Pairs each preemption without a latency with the run and contact closing on its approach. */
  private matchLatencies(): void {
    for (const p of this.snap.preemptions) {
      if (p.latencyMs !== null) continue;
      const i = this.closings.findIndex((c) => c.approach === p.approach);
      if (i < 0) continue;
      const closing = this.closings[i]!;
      const run = [...this.runs]
        .reverse()
        .find(
          (r) =>
            r.kind !== 'forged' &&
            r.approach === p.approach &&
            r.firstSentAt !== null &&
            r.firstSentAt <= closing.atMs,
        );
      if (!run) continue;
      this.closings.splice(i, 1);
      p.latencyMs = Math.round((closing.atMs - run.firstSentAt!) * 10) / 10;
    }
  }

  /** The snapshot with rates brought up to now. */
  snapshot(): RegionSnapshot {
    const t = this.now();
    this.snap.nowMs = t;
    let total = 0;
    for (const [gatewayId, list] of this.readingTimes) {
      while (list.length > 0 && list[0]!.atMs < t - RATE_WINDOW_MS) list.shift();
      const span = Math.min(RATE_WINDOW_MS, Math.max(1000, t - this.snap.startedAtMs));
      const rate = (list.reduce((n, x) => n + x.n, 0) * 1000) / span;
      total += rate;
      const site = this.siteByGateway.get(gatewayId);
      const row = site === undefined ? undefined : this.gatewayRow(site);
      if (row) row.readingsPerS = rate;
    }
    this.snap.readingsPerS = total;
    return this.snap;
  }
}

export type { PreemptionRow };
