// A model of the traffic controller's side of the preemption interface, for the bench: it watches
// the gateway's relay outputs and heartbeat on the wire bus, keeps a retriggerable dead-man timer
// (contacts open when heartbeats stop), drives each relay's readback line with the contact state,
// and records every violation of the safety rules of DESIGN.md it can see from outside.
import type { Level, Wires } from '../bench/wires/types.ts';

export interface ControllerApproach {
  id: string;
  /** Wire the gateway drives to request preemption on this approach. */
  output: string;
  /** Wire the model drives with the contact state (the relay's auxiliary contact). */
  readback?: string;
}

export interface TrafficControllerOptions {
  approaches: readonly ControllerApproach[];
  /** Approach id → ids it conflicts with. */
  conflicts: Readonly<Record<string, readonly string[]>>;
  heartbeat: string;
  /** Dead-man: contacts open when no heartbeat edge came for this long (default 50 ms). */
  deadmanMs?: number;
  /** A contact closed longer than this is a violation (the gateway's holdMax plus margin). */
  holdMaxMs?: number;
}

export type ViolationKind = 'conflict' | 'hold';

export interface Violation {
  kind: ViolationKind;
  atMs: number;
  detail: string;
}

export interface ContactChange {
  approach: string;
  closed: boolean;
  /** performance.now() of the change, ms. */
  atMs: number;
  /** Why a contact opened: the gateway's output, or the dead-man. */
  cause: 'output' | 'deadman';
}

export class TrafficControllerModel {
  readonly violations: Violation[] = [];
  readonly changes: ContactChange[] = [];
  /** Times (performance.now(), ms) the dead-man tripped. */
  readonly deadmanTrips: number[] = [];
  private readonly requested = new Map<string, Level>();
  private readonly closed = new Map<string, number>();
  private deadmanAlive = false;
  private deadmanTimer: ReturnType<typeof setTimeout> | undefined;
  private holdTimer: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly conflicts: Map<string, Set<string>>;
  private readonly byOutput = new Map<string, ControllerApproach>();

  constructor(
    private readonly wires: Wires,
    private readonly o: TrafficControllerOptions,
  ) {
    this.conflicts = new Map(o.approaches.map((a) => [a.id, new Set(o.conflicts[a.id] ?? [])]));
    for (const a of o.approaches) {
      this.byOutput.set(a.output, a);
      this.requested.set(a.id, 0);
      this.unsubscribe.push(wires.onEdge(a.output, (level) => this.output(a, level)));
    }
    this.unsubscribe.push(wires.onEdge(o.heartbeat, () => this.heartbeat()));
    const holdMaxMs = o.holdMaxMs;
    if (holdMaxMs !== undefined) {
      this.holdTimer = setInterval(() => {
        const now = performance.now();
        for (const [id, since] of this.closed) {
          if (now - since > holdMaxMs) {
            this.violations.push({
              kind: 'hold',
              atMs: now,
              detail: `${id} closed for ${Math.round(now - since)} ms`,
            });
            this.closed.set(id, now); // report once per holdMax period
          }
        }
      }, 50);
    }
  }

  /** Approaches whose contact is closed now. */
  closedApproaches(): string[] {
    return [...this.closed.keys()];
  }

  isClosed(approach: string): boolean {
    return this.closed.has(approach);
  }

  /** Resolves when `predicate` holds after a contact change, or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate()) return resolve();
      const started = performance.now();
      const t = setInterval(() => {
        if (predicate()) {
          clearInterval(t);
          resolve();
        } else if (performance.now() - started > timeoutMs) {
          clearInterval(t);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; contacts: [${this.closedApproaches().join(', ')}]`,
            ),
          );
        }
      }, 2);
    });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    if (this.deadmanTimer) clearTimeout(this.deadmanTimer);
    if (this.holdTimer) clearInterval(this.holdTimer);
  }

  private heartbeat(): void {
    if (this.deadmanTimer) clearTimeout(this.deadmanTimer);
    this.deadmanTimer = setTimeout(() => this.trip(), this.o.deadmanMs ?? 50);
    if (!this.deadmanAlive) {
      this.deadmanAlive = true;
      for (const a of this.o.approaches)
        if (this.requested.get(a.id) === 1) this.setContact(a, true, 'output');
    }
  }

  private trip(): void {
    this.deadmanAlive = false;
    this.deadmanTrips.push(performance.now());
    for (const a of this.o.approaches) this.setContact(a, false, 'deadman');
  }

  private output(a: ControllerApproach, level: Level): void {
    this.requested.set(a.id, level);
    this.setContact(a, level === 1 && this.deadmanAlive, 'output');
  }

  private setContact(a: ControllerApproach, closed: boolean, cause: ContactChange['cause']): void {
    if (this.closed.has(a.id) === closed) return;
    const now = performance.now();
    if (closed) {
      for (const other of this.closed.keys()) {
        if (this.conflicts.get(a.id)?.has(other)) {
          this.violations.push({
            kind: 'conflict',
            atMs: now,
            detail: `${a.id} closed while ${other} is closed`,
          });
        }
      }
      this.closed.set(a.id, now);
    } else {
      this.closed.delete(a.id);
    }
    this.changes.push({ approach: a.id, closed, atMs: now, cause });
    if (a.readback !== undefined) void this.wires.set(a.readback, closed ? 1 : 0).catch(() => {});
  }
}
