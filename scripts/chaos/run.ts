// One chaos run: bring the region up, drive traffic, play the fault schedule, then restore
// everything, let the gateways drain, stop, and count what reached the fleet against what the
// meters answered and what the traffic controller saw.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLocalApiToken } from '@brana/gateway';
import Database from 'better-sqlite3';
import { findFaketime } from './clock.ts';
import {
  type CountResult,
  countReadings,
  type MeterAnswer,
  type StoredReadFault,
  type StoredReading,
} from './count.ts';
import { fillDisk, freeDisk } from './disk.ts';
import { seededRandom } from './random.ts';
import { type ChaosRegion, type ChaosSite, DEADMAN_MS, startChaosRegion } from './region.ts';
import { type EmergencyOutcome, perfOf, type SafetyFinding, SafetyMonitor } from './safety.ts';
import { describeFault, type FaultKind, type PlannedFault, planFaults } from './schedule.ts';
import type { ServiceRun } from './services.ts';
import { Flood, Traffic } from './traffic.ts';

export interface ChaosOptions {
  minutes: number;
  seed: number;
  /** Mean faults per minute. */
  rate: number;
  buildings: number;
  floodPerS: number;
  diskMb: number;
  ambulanceEveryS: number;
  busEveryS: number;
  emergencyBoundMs: number;
  /** Weights of the fault kinds (default: schedule.ts DEFAULT_WEIGHTS). */
  weights?: Partial<Record<FaultKind, number>>;
  data?: string;
  keep: boolean;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface ChaosResult {
  faults: number;
  faultsByKind: Record<string, number>;
  lost: number;
  duplicated: number;
  unsafe: number;
  unservedEmergency: number;
  minutes: number;
  readings: CountResult & { droppedByPolicy: number; gatewayReportedDrops: number };
  emergency: EmergencyOutcome;
  findings: SafetyFinding[];
  disk: string;
  clock: string;
  dataDir: string;
  notes: string[];
}

interface Window {
  site: string;
  from: number;
  to: number;
}

const ts = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

const tokens = new Map<string, string>();

/** The agent's status through its local API, with a read token minted in its store for this run. */
async function agentStatus(site: ChaosSite): Promise<Record<string, unknown> | null> {
  try {
    let token = tokens.get(site.dir);
    if (!token) {
      token = issueLocalApiToken(site.dir, 'npm-run-chaos', ['read']);
      tokens.set(site.dir, token);
    }
    const res = await fetch(`http://127.0.0.1:${site.localApiPort}/api/status`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Readings a gateway says it dropped by its stated policy: the journal's persisted counters of
 * readings dropped on a full disk and unsent readings evicted for space.
 */
function reportedDrops(journal: Record<string, unknown> | undefined): number {
  const dropped = journal?.dropped as { readingsDiskFull?: unknown } | undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return n(dropped?.readingsDiskFull) + n(journal?.evictedReadings);
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const data = o.data ?? mkdtempSync(join(tmpdir(), 'brana-chaos-'));
  mkdirSync(data, { recursive: true });
  const faketime = findFaketime();
  const notes: string[] = [];
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const log = (line: string) => o.log(`[${ts(elapsed())}] ${line}`);
  const region: ChaosRegion = await startChaosRegion({
    data,
    buildings: o.buildings,
    diskMb: o.diskMb,
    // The agent waits max(trial, 20 s) for the firmware to connect after a config restart; Node with
    // tsx takes longer than 20 s to start on this machine under a load average of 20.
    trialS: 45,
    faketime,
    log,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  let traffic: Traffic | undefined;
  let flood: Flood | undefined;
  let safety: SafetyMonitor | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  try {
    const random = seededRandom(o.seed ^ 0x5eed);
    const x = region.region.intersection;
    traffic = new Traffic({
      intersection: x,
      vehicles: region.vehicles,
      udpPort: region.udpPort,
      radioPath: region.radioPath,
      random,
      ambulanceEveryS: o.ambulanceEveryS,
      busEveryS: o.busEveryS,
      onProblem: (m) => log(m),
    });
    await traffic.start();
    const transit = region.vehicles.find((v) => v.role === 'transit')!;
    const trusted = region.vehicles.find((v) => v.role === 'ambulance')!;
    flood = new Flood({
      dir: join(data, 'region'),
      udpPort: region.udpPort,
      intersection: x,
      keys: {
        privateKeyPem: transit.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        trustedPublicKey: trusted.publicKey,
      },
      logFile: join(data, 'logs', 'flood.log'),
    });
    const floods: { from: number; to: number }[] = [];
    const clockWindows: Window[] = [];
    const diskWindows: Window[] = [];
    const injected: (PlannedFault & { ok: boolean })[] = [];
    const xSite = region.sites.find((s) => s.plan.kind === 'intersection')!;
    safety = new SafetyMonitor({
      controller: region.controller,
      wires: region.intersectionRig.wires.bus,
      heartbeat: 'heartbeat',
      conflicts: x.conflicts,
      deadmanMs: DEADMAN_MS,
      rt: xSite.services.rt,
      runs: traffic.runs,
      floods,
      clockStepped: (t) =>
        clockWindows.some(
          (w) => w.site === xSite.plan.site && perfOf(w.from) <= t && t <= perfOf(w.to) + 2500,
        ),
      boundMs: o.emergencyBoundMs,
      // The rt defaults (firmware-ts/src/config/preemption.ts: minGapS 10, releaseMs 300), the
      // region's configs leave them as they are; a second of margin each.
      sameApproachGapMs: 11_000,
      handoverMs: 1300,
      context: (t) => {
        const around = injected.filter((f) => {
          const at = perfOf(runStartDate) + f.atMs;
          const until = at + ('forMs' in f ? f.forMs : 0);
          return f.ok && at - 3000 <= t && t <= until + 3000;
        });
        const closed = region.controller.closedApproaches();
        return `faults around it: ${around.map((f) => `${describeFault(f)} at ${ts(f.atMs)}`).join(', ') || 'none'}; contacts closed at the end: ${closed.join(', ') || 'none'}`;
      },
    });

    // ------------------------------------------------------------ the schedule
    const durationMs = o.minutes * 60_000;
    const processes = region.processes();
    const schedule = planFaults({
      seed: o.seed,
      startMs: Math.min(20_000, durationMs / 6),
      endMs: durationMs,
      perMinute: o.rate,
      floodPerS: o.floodPerS,
      ...(o.weights ? { weights: o.weights } : {}),
      targets: {
        processes: [...processes.keys()],
        disks: region.disksMounted ? region.sites.map((s) => s.plan.site) : [],
        clocks: faketime ? region.sites.map((s) => s.plan.site) : [],
        flood: true,
      },
    });
    if (!region.disksMounted)
      notes.push(`disk-full faults left out: no small filesystem could be mounted (${region.diskProblem})`);
    if (!faketime)
      notes.push('gateway clock steps left out: libfaketime is not installed (apt-get install libfaketime)');
    log(
      `${schedule.length} faults planned over ${o.minutes} min (seed ${o.seed}); ${processes.size} processes may be killed`,
    );
    const runStart = performance.now();
    const runStartDate = Date.now();
    const after = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const siteOf = (name: string) => region.sites.find((s) => s.plan.site === name)!;
    const inject = (f: PlannedFault) => {
      let ok = true;
      switch (f.kind) {
        case 'kill':
          ok = processes.get(f.target)?.kill() ?? false;
          break;
        case 'net':
          region.proxy.set(f.mode);
          after(f.forMs, () => region.proxy.set('pass'));
          break;
        case 'disk': {
          const site = siteOf(f.site);
          const w: Window = { site: f.site, from: Date.now(), to: Number.POSITIVE_INFINITY };
          diskWindows.push(w);
          try {
            fillDisk(site.dir);
          } catch (err) {
            log(`filling ${f.site}'s disk: ${(err as Error).message}`);
          }
          after(f.forMs, () => {
            freeDisk(site.dir);
            w.to = Date.now();
          });
          break;
        }
        case 'clock': {
          const w: Window = { site: f.site, from: Date.now(), to: Number.POSITIVE_INFINITY };
          clockWindows.push(w);
          region.clocks.set(f.site, f.offsetS);
          after(f.forMs, () => {
            region.clocks.set(f.site, 0);
            w.to = Date.now();
          });
          break;
        }
        case 'world-clock':
          region.world.offsetMs += f.offsetS * 1000;
          break;
        case 'flood': {
          const w = { from: performance.now(), to: Number.POSITIVE_INFINITY };
          floods.push(w);
          flood!.start(f.perS);
          after(f.forMs, () => {
            void flood!.stop();
            w.to = performance.now();
          });
          break;
        }
      }
      injected.push({ ...f, ok });
      if (!ok) log(`(${describeFault(f)}: it was down already, not counted)`);
    };
    for (const f of schedule) after(f.atMs, () => inject(f));

    const progress = setInterval(() => {
      const done = injected.filter((f) => f.ok);
      const by = countBy(done.map((f) => f.kind));
      const e = safety!.emergencies();
      log(
        `faults ${done.length}/${schedule.length} (${Object.entries(by)
          .map(([k, n]) => `${k} ${n}`)
          .join(
            ', ',
          )}); meter answers ${region.answers.length}; ambulances ${e.runs} (unserved ${e.unserved}); unsafe ${safety!.findings.length}; network ${region.proxy.mode}`,
      );
    }, 15_000);
    const lastFault = new Map<string, number>();
    const faultLog = setInterval(() => {
      for (const f of injected) {
        if (lastFault.has(`${f.atMs}`)) continue;
        lastFault.set(`${f.atMs}`, 1);
        if (f.ok) log(describeFault(f));
      }
    }, 500);
    await new Promise<void>((resolve, reject) => {
      const end = setTimeout(resolve, Math.max(0, durationMs - (performance.now() - runStart)));
      o.signal?.addEventListener('abort', () => {
        clearTimeout(end);
        reject(new Error('stopped'));
      });
    });
    clearInterval(progress);
    clearInterval(faultLog);

    // ------------------------------------------------------------ restore, drain, stop
    log('time is up: restoring the network, disks, clocks; stopping the flood');
    for (const t of timers) {
      clearTimeout(t);
    }
    timers.clear();
    region.proxy.set('pass');
    for (const s of region.sites) freeDisk(s.dir);
    for (const w of diskWindows) if (w.to === Number.POSITIVE_INFINITY) w.to = Date.now();
    for (const s of region.sites)
      if ((region.clocks.offsets.get(s.plan.site) ?? 0) !== 0) region.clocks.set(s.plan.site, 0);
    for (const w of clockWindows) if (w.to === Number.POSITIVE_INFINITY) w.to = Date.now();
    await flood.stop();
    for (const w of floods) if (w.to === Number.POSITIVE_INFINITY) w.to = performance.now();
    log('letting the last vehicle runs finish');
    await traffic.stop();
    // Every process up again, then the fieldbus processes stop (gracefully): no reading after that.
    const deadline = Date.now() + 60_000;
    while ([...processes.values()].some((p) => p.upSince() === null) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 5000));
    safety.close();
    log('stopping the fieldbus processes; waiting for the gateways to upload their journals');
    await Promise.all(region.sites.map((s) => s.services.fieldbus?.stop()));
    const journals = new Map<string, Record<string, unknown>>();
    const drainDeadline = Date.now() + 180_000;
    for (;;) {
      let pending = 0;
      for (const s of region.sites) {
        const st = await agentStatus(s);
        const j = st?.journal as Record<string, unknown> | undefined;
        if (j) journals.set(s.plan.site, j);
        pending += j ? Number(j.readings ?? 0) + Number(j.pending ?? 0) : 1;
      }
      if (pending === 0) break;
      if (Date.now() > drainDeadline) {
        notes.push(`gateways still held ${pending} readings after 3 minutes of draining`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    log('stopping the region');
    await region.stop();

    // ------------------------------------------------------------ count
    const db = new Database(region.fleetDb, { readonly: true });
    const siteOfGateway = new Map(region.sites.map((s) => [s.gatewayId, s.plan.site]));
    const stored: StoredReading[] = [];
    for (const r of db
      .prepare(
        `SELECT g.id AS gw, c.key AS channel, r.ts AS ts FROM readings r
         JOIN channels c ON c.id = r.channel_id JOIN gateways g ON g.num = r.gateway_num`,
      )
      .iterate() as Iterable<{ gw: string; channel: string; ts: number }>) {
      const site = siteOfGateway.get(r.gw);
      if (site) stored.push({ site, channel: r.channel, ts: r.ts });
    }
    const faults: StoredReadFault[] = [];
    let fieldbusDrops = 0;
    let journalDrops = 0;
    const dropsByBoot = new Map<string, number>();
    for (const e of db
      .prepare(
        `SELECT g.id AS gw, e.kind AS kind, e.ts AS ts, e.data AS data FROM events e
         JOIN gateways g ON g.num = e.gateway_num
         WHERE e.kind IN ('fieldbus.fault', 'status.fieldbus', 'journal.disk-ok')`,
      )
      .iterate() as Iterable<{ gw: string; kind: string; ts: number; data: string }>) {
      const site = siteOfGateway.get(e.gw);
      if (!site) continue;
      const d = JSON.parse(e.data) as Record<string, unknown>;
      if (e.kind === 'journal.disk-ok') {
        // The journal's own account of each full-disk spell: readings dropped and evicted.
        journalDrops += Number(d.droppedReadings ?? 0) + Number(d.evictedReadings ?? 0);
      } else if (e.kind === 'fieldbus.fault') {
        faults.push({
          site,
          device: String(d.device),
          fc: Number(d.functionCode),
          address: Number(d.address),
          count: Number(d.count),
          ts: e.ts,
        });
      } else {
        const counters = d.counters as Record<string, number> | undefined;
        const key = `${site}/${String(d.sourceBootEpoch)}`;
        dropsByBoot.set(key, Math.max(dropsByBoot.get(key) ?? 0, Number(counters?.dropped ?? 0)));
      }
    }
    db.close();
    for (const v of dropsByBoot.values()) fieldbusDrops += v;

    const devices = new Map(region.sites.map((s) => [s.plan.site, s.devices]));
    const offsetsAt = (site: string, atMs: number): number[] => {
      const set = new Set<number>();
      for (const t of [atMs - 2500, atMs, atMs + 1500]) set.add(region.clocks.offsetAt(site, t));
      return [...set];
    };
    const excuse = (a: MeterAnswer): string | null => {
      const site = siteOf(a.site);
      const fb = site.services.fieldbus;
      const agent = site.services.agent;
      if (!fb || !agent) return null;
      const inDisk = diskWindows.some(
        (w) => w.site === a.site && w.from - 2000 <= a.atMs && a.atMs <= w.to + 2000,
      );
      if (inDisk) return 'disk full';
      const run = fb.runs.find(
        (r) => r.startedAt <= a.atMs && (r.endedAt === null || a.atMs <= r.endedAt + 50),
      );
      if (!run) return 'answered with no fieldbus running (a request of a killed one)';
      if (run.end !== 'SIGKILL' || run.endedAt === null) return null;
      // Held unacked in the RAM of a fieldbus killed -9: the agent was down, starting or on a full
      // disk from the answer until the kill, or the kill came before the agent's next group write
      // (journal.flushIntervalMs, after which it acks) plus 2 s.
      const ready = agentReadyFrom(agent.runs, diskWindows, a.site, a.atMs);
      // The agent's journal.flushS is left at its default (10 s) in the agent configs this run writes.
      const flushMs = Number(journals.get(a.site)?.flushIntervalMs ?? 10_000);
      return run.endedAt < ready + flushMs ? 'held unacked by a fieldbus killed -9' : null;
    };
    const counted = countReadings(region.answers, devices, stored, faults, {
      toleranceMs: 2500,
      offsetsAt,
      excuse,
    });
    // What the gateways told the fleet (journal.disk-ok events), or their journal counters when
    // those say more (a spell still open at the end has no disk-ok yet).
    let statusDrops = 0;
    for (const j of journals.values()) statusDrops += reportedDrops(j);
    const gatewayReported = fieldbusDrops + Math.max(journalDrops, statusDrops);
    const diskExcused = counted.excused['disk full'] ?? 0;
    const droppedByPolicy = Math.min(diskExcused, gatewayReported);
    // Readings lost on a full disk that the gateway did not count as dropped are lost.
    const lost = counted.lost + (diskExcused - droppedByPolicy);
    const emergency = safety.emergencies();
    const done = injected.filter((f) => f.ok);
    return {
      faults: done.length,
      faultsByKind: countBy(done.map((f) => f.kind)),
      lost,
      duplicated: counted.duplicated,
      unsafe: safety.findings.length,
      unservedEmergency: emergency.unserved,
      minutes: o.minutes,
      readings: { ...counted, droppedByPolicy, gatewayReportedDrops: gatewayReported },
      emergency,
      findings: safety.findings,
      disk: region.disksMounted ? `tmpfs ${o.diskMb} MB per gateway` : `machine disk (${region.diskProblem})`,
      clock: faketime ? `libfaketime (${faketime})` : 'meters only (no libfaketime)',
      dataDir: data,
      notes,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    safety?.close();
    await flood?.stop();
    await traffic?.stop().catch(() => undefined);
    await region.stop();
    if (!o.keep && !o.data) rmSync(data, { recursive: true, force: true });
  }
}

/** The first moment, at or after `from`, that the agent had been up for 5 s with room on its disk. */
export function agentReadyFrom(
  agentRuns: readonly ServiceRun[],
  diskWindows: readonly Window[],
  site: string,
  from: number,
): number {
  const settleMs = 5000;
  let t = from;
  for (let guard = 0; guard < 1000; guard++) {
    const run = agentRuns.find((r) => r.startedAt <= t && (r.endedAt === null || t < r.endedAt));
    if (!run) {
      const next = agentRuns.find((r) => r.startedAt > t);
      if (!next) return Number.POSITIVE_INFINITY;
      t = next.startedAt;
      continue;
    }
    const candidate = Math.max(t, run.startedAt + settleMs);
    const disk = diskWindows.find((w) => w.site === site && w.from <= candidate + 2000 && w.to >= t);
    if (disk) {
      t = disk.to;
      continue;
    }
    if (run.endedAt !== null && run.endedAt < candidate + 2000) {
      t = run.endedAt;
      continue;
    }
    return candidate + 2000;
  }
  return Number.POSITIVE_INFINITY;
}

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}
