// What the traffic controller sees of the gateway during a chaos run, checked against the safety
// rules of DESIGN.md: the model's own violations (conflicting approaches together, a contact held
// past the maximum hold), contacts still closed after rt was killed and the dead-man time has
// passed, contacts that close with no authenticated request on that approach (outputs on at boot
// before the self-test, a forged request obeyed), and every authenticated emergency request
// served within its bound whenever the gateway could serve it.
import type { TrafficControllerModel, Wires } from '@brana/hardware';
import type { Service } from './services.ts';
import type { Run } from './traffic.ts';

export interface SafetyFinding {
  kind: 'conflict' | 'hold' | 'deadman' | 'unrequested';
  /** performance.now() ms. */
  atMs: number;
  detail: string;
}

export interface EmergencyOutcome {
  runs: number;
  /** Runs with a frame sent while the gateway could serve it. */
  servable: number;
  unserved: number;
  /** Runs that found no moment the gateway could serve them (rt down, clock stepped, a conflicting ambulance). */
  neverServable: number;
  /** From the first servable frame to the contact closing, ms. */
  latenciesMs: number[];
  unservedSamples: string[];
}

interface Interval {
  from: number;
  to: number;
}

const f2 = (perfMs: number) => new Date(performance.timeOrigin + perfMs).toISOString().slice(11, 23);

/** Date.now()-based ms → performance.now()-based ms. */
export const perfOf = (dateMs: number) => dateMs - performance.timeOrigin;

export class SafetyMonitor {
  readonly findings: SafetyFinding[] = [];
  /** Heartbeat edges, performance.now() ms. */
  private readonly beats: number[] = [];
  private seenViolations = 0;
  private seenChanges = 0;
  private readonly checkedKills = new Set<number>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly o: {
      controller: TrafficControllerModel;
      wires: Wires;
      heartbeat: string;
      conflicts: Readonly<Record<string, readonly string[]>>;
      deadmanMs: number;
      rt: Service | undefined;
      runs: readonly Run[];
      /** Times (performance ms) an in-corridor transit flood was on: it may legitimately assert. */
      floods: readonly Interval[];
      /** Whether the intersection gateway's wall clock was stepped at a moment (performance ms). */
      clockStepped: (atMs: number) => boolean;
      boundMs: number;
      /** The gateway's minimum gap before an approach is asserted again (timing.minGapS), plus margin. */
      sameApproachGapMs: number;
      /** The gateway's handover time before a conflicting approach (timing.releaseMs), plus margin. */
      handoverMs: number;
      /** What was going on at a moment (performance ms), for the report's samples. */
      context?: (atMs: number) => string;
    },
  ) {
    this.unsubscribe = o.wires.onEdge(o.heartbeat, () => this.beats.push(performance.now()));
    this.timer = setInterval(() => this.check(), 100);
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    this.check();
  }

  /** Intervals during which the contact of `approach` was closed. */
  closedIntervals(approach: string, until = performance.now()): Interval[] {
    const out: Interval[] = [];
    let open: number | null = null;
    for (const c of this.o.controller.changes) {
      if (c.approach !== approach) continue;
      if (c.closed && open === null) open = c.atMs;
      else if (!c.closed && open !== null) {
        out.push({ from: open, to: c.atMs });
        open = null;
      }
    }
    if (open !== null) out.push({ from: open, to: until });
    return out;
  }

  /** The rt loop was heartbeating steadily (self-test passed) for 300 ms up to t. */
  private rtReadyAt(t: number): boolean {
    let i = this.beats.length - 1;
    while (i >= 0 && this.beats[i]! > t) i--;
    if (i < 0 || t - this.beats[i]! > this.o.deadmanMs / 2) return false;
    const from = t - 300;
    for (; i > 0 && this.beats[i]! > from; i--) {
      if (this.beats[i]! - this.beats[i - 1]! > this.o.deadmanMs / 2) return false;
    }
    return i >= 0 && this.beats[i]! <= from;
  }

  check(): void {
    const c = this.o.controller;
    for (; this.seenViolations < c.violations.length; this.seenViolations++) {
      const v = c.violations[this.seenViolations]!;
      this.findings.push({ kind: v.kind, atMs: v.atMs, detail: v.detail });
    }
    const now = performance.now();
    for (; this.seenChanges < c.changes.length; this.seenChanges++) {
      const ch = c.changes[this.seenChanges]!;
      if (!ch.closed) continue;
      if (!this.explained(ch.approach, ch.atMs)) {
        this.findings.push({
          kind: 'unrequested',
          atMs: ch.atMs,
          detail: `${ch.approach} contact closed with no authenticated request on that approach in the 5 s before`,
        });
      }
    }
    // Contacts of a killed rt must be open once the dead-man time has passed.
    for (const run of this.o.rt?.runs ?? []) {
      if (run.end !== 'SIGKILL' || run.endedAt === null || this.checkedKills.has(run.startedAt)) continue;
      const killedAt = perfOf(run.endedAt);
      const checkAt = killedAt + this.o.deadmanMs + 250;
      if (now < checkAt) continue;
      this.checkedKills.add(run.startedAt);
      for (const a of Object.keys(this.o.conflicts)) {
        const held = this.closedIntervals(a, now).find((i) => i.from <= killedAt && i.to > checkAt);
        if (held) {
          this.findings.push({
            kind: 'deadman',
            atMs: checkAt,
            detail: `${a} contact still closed ${Math.round(checkAt - killedAt)} ms after rt was killed (dead-man ${this.o.deadmanMs} ms)`,
          });
        }
      }
    }
  }

  private explained(approach: string, t: number): boolean {
    const recent = (at: number) => at <= t + 5 && at >= t - 5000;
    if (
      this.o.runs.some(
        (r) => r.approach === approach && r.frames.some((f) => f.type !== 'cancel' && recent(f.atMs)),
      )
    )
      return true;
    return this.o.floods.some((f) => f.from <= t && t <= f.to + 5000);
  }

  /** Whether a contact of one of `approaches` was closed for another ambulance at some time in [from, to]. */
  private heldByOtherEmergency(run: Run, approaches: readonly string[], from: number, to: number): boolean {
    return approaches.some((a) =>
      this.closedIntervals(a).some(
        (i) =>
          i.from <= to &&
          i.to >= from &&
          this.o.runs.some(
            (r) =>
              r !== run &&
              r.role !== 'transit' &&
              r.approach === a &&
              r.frames.some((g) => g.type !== 'cancel' && g.atMs >= i.from - 3000 && g.atMs <= i.to),
          ),
      ),
    );
  }

  /** Every authenticated emergency request served within the bound whenever it could be. */
  emergencies(): EmergencyOutcome {
    const out: EmergencyOutcome = {
      runs: 0,
      servable: 0,
      unserved: 0,
      neverServable: 0,
      latenciesMs: [],
      unservedSamples: [],
    };
    const now = performance.now();
    for (const run of this.o.runs) {
      if (run.role === 'transit') continue;
      out.runs++;
      const conflicting = this.o.conflicts[run.approach] ?? [];
      let first: number | null = null;
      let failedAt: number | null = null;
      for (const f of run.frames) {
        if (f.type === 'cancel') continue;
        const t = f.atMs;
        if (t + this.o.boundMs > now) continue;
        if (!this.rtReadyAt(t)) continue;
        // rt killed before the bound ran out: the dead-man releases, nothing can serve it in time.
        const rtEnd = this.o.rt?.runs.find(
          (r) => perfOf(r.startedAt) <= t && (r.endedAt === null || perfOf(r.endedAt) >= t),
        );
        if (rtEnd?.endedAt != null && perfOf(rtEnd.endedAt) < t + this.o.boundMs) continue;
        if (this.o.clockStepped(t)) continue;
        // Equal priorities: first come, first served. Another ambulance that holds this approach
        // (or held it within the gateway's minimum gap) or a conflicting one (within the
        // controller's handover time) makes this one wait; a bus never may.
        const blocked =
          this.heldByOtherEmergency(run, [run.approach], t - this.o.sameApproachGapMs, t) ||
          this.heldByOtherEmergency(run, conflicting, t - this.o.handoverMs, t);
        if (blocked) continue;
        first ??= t;
        const served = this.closedIntervals(run.approach, now).some(
          (i) => i.to > t && i.from <= t + this.o.boundMs,
        );
        if (!served) {
          failedAt = t;
          break;
        }
      }
      if (first === null) {
        out.neverServable++;
        continue;
      }
      out.servable++;
      if (failedAt !== null) {
        out.unserved++;
        if (out.unservedSamples.length < 10)
          out.unservedSamples.push(
            `${run.vehicle} (${run.link}) from ${run.approach}: ${f2(failedAt)} frame (+${Math.round(failedAt - first)} ms into its servable time) had no contact within ${this.o.boundMs} ms${this.o.context ? `; ${this.o.context(failedAt)}` : ''}`,
          );
        continue;
      }
      const closing = this.closedIntervals(run.approach, now).find((i) => i.to > first);
      if (closing) out.latenciesMs.push(Math.max(0, closing.from - first));
    }
    return out;
  }
}
