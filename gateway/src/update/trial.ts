// The trial of a new release, as the agent of that release sees it: within the window the gateway
// must show the rt loop passed its self-test and keeps its heartbeat, readings flowing, the
// journal committing, the fleet link up and the flows running. `judgeTrial` is pure; TrialProbe
// collects what it judges from the records the agent journals and the state of its parts.
import type { SequencedRecord } from '@brana/firmware';

export const TRIAL_CHECKS = ['rt', 'readings', 'journal', 'fleet', 'flows'] as const;
export type TrialCheck = (typeof TRIAL_CHECKS)[number];

export interface TrialObservation {
  /** Since the trial began (this agent started on the new release). */
  elapsedMs: number;
  rt: {
    expected: boolean;
    /** The rt loop has a preemption section: it reports preemption.ready after its self-test. */
    expectReady: boolean;
    connected: boolean;
    ready: boolean;
    /** Status records (every few seconds from the loop's cycle): the heartbeat is running. */
    statusRecords: number;
    fault: string | undefined;
  };
  readings: { expected: boolean; count: number };
  journal: { committed: number; commitErrors: number };
  fleet: { expected: boolean; online: boolean };
  flows: { expected: boolean; running: boolean; detail?: string };
}

export type TrialVerdict =
  | { verdict: 'pass' }
  | { verdict: 'wait'; missing: TrialCheck[] }
  | { verdict: 'fail'; failed: TrialCheck[]; detail: string };

export interface TrialTiming {
  /** The whole window (default 5 min): a check still missing at its end fails the trial. */
  windowMs: number;
  /** Watched at least this long before passing, so a crash soon after start is seen (default 30 s). */
  settleMs: number;
}

function missingChecks(o: TrialObservation): Map<TrialCheck, string> {
  const m = new Map<TrialCheck, string>();
  if (o.rt.expected) {
    if (!o.rt.connected) m.set('rt', 'the rt process is not connected to the agent');
    else if (o.rt.expectReady && !o.rt.ready)
      m.set('rt', 'rt has not reported its self-test passed (preemption.ready)');
    else if (o.rt.statusRecords === 0) m.set('rt', 'no heartbeat status from the rt loop yet');
  }
  if (o.readings.expected && o.readings.count === 0)
    m.set('readings', 'no readings from the fieldbus process');
  if (o.journal.committed === 0) m.set('journal', 'nothing committed to the journal');
  if (o.fleet.expected && !o.fleet.online) m.set('fleet', 'the fleet link is not up');
  if (o.flows.expected && !o.flows.running)
    m.set('flows', `the flows are not running${o.flows.detail ? ` (${o.flows.detail})` : ''}`);
  return m;
}

export function judgeTrial(o: TrialObservation, t: TrialTiming): TrialVerdict {
  // Faults end the trial at once: waiting cannot make them good.
  if (o.rt.fault !== undefined) return { verdict: 'fail', failed: ['rt'], detail: `rt: ${o.rt.fault}` };
  if (o.journal.commitErrors > 0) {
    return {
      verdict: 'fail',
      failed: ['journal'],
      detail: `journal: ${o.journal.commitErrors} commit(s) failed`,
    };
  }
  const missing = missingChecks(o);
  if (missing.size === 0)
    return o.elapsedMs >= t.settleMs ? { verdict: 'pass' } : { verdict: 'wait', missing: [] };
  if (o.elapsedMs >= t.windowMs) {
    return {
      verdict: 'fail',
      failed: [...missing.keys()],
      detail: [...missing.entries()].map(([k, why]) => `${k}: ${why}`).join('; '),
    };
  }
  return { verdict: 'wait', missing: [...missing.keys()] };
}

export interface TrialProbeSources {
  /** Which firmware processes this gateway runs (from its config). */
  rtExpected: () => boolean;
  rtExpectReady: () => boolean;
  readingsExpected: () => boolean;
  rtConnected: () => boolean;
  journalCommitErrors: () => number;
  fleet: () => { expected: boolean; online: boolean };
  flows: () => { expected: boolean; running: boolean; detail?: string };
}

/** Events from rt that fail the trial (as they fail a config trial). */
const RT_FAULTS = new Set(['preemption.fault', 'selftest.failed', 'fault', 'relay.readback-mismatch']);

export class TrialProbe {
  readonly #s: TrialProbeSources;
  #startedMs = 0;
  #active = false;
  #ready = false;
  #status = 0;
  #readings = 0;
  #committed = 0;
  #fault: string | undefined;
  #commitErrorsAtStart = 0;
  #fleetSeen = false;

  constructor(sources: TrialProbeSources) {
    this.#s = sources;
  }

  start(nowMs: number): void {
    this.#active = true;
    this.#startedMs = nowMs;
    this.#ready = false;
    this.#status = 0;
    this.#readings = 0;
    this.#committed = 0;
    this.#fault = undefined;
    this.#fleetSeen = false;
    this.#commitErrorsAtStart = this.#s.journalCommitErrors();
  }

  stop(): void {
    this.#active = false;
  }

  /** Records the agent just committed to its journal. */
  observe(records: readonly SequencedRecord[]): void {
    if (!this.#active) return;
    this.#committed += records.length;
    for (const r of records) {
      const rec = r.record;
      if (rec.kind === 'reading' && r.source === 'fieldbus') this.#readings++;
      if (r.source !== 'rt') continue;
      if (rec.kind === 'status') this.#status++;
      if (rec.kind === 'event' && rec.type === 'preemption.ready') this.#ready = true;
      if (rec.kind === 'event' && RT_FAULTS.has(rec.type) && this.#fault === undefined) {
        this.#fault = `${rec.type} ${JSON.stringify(rec.data).slice(0, 200)}`;
      }
    }
  }

  snapshot(nowMs: number): TrialObservation {
    const fleet = this.#s.fleet();
    // Up once during the window is enough: a link that drops later is the network, not the release.
    if (fleet.online) this.#fleetSeen = true;
    return {
      elapsedMs: nowMs - this.#startedMs,
      rt: {
        expected: this.#s.rtExpected(),
        expectReady: this.#s.rtExpectReady(),
        connected: this.#s.rtConnected(),
        ready: this.#ready,
        statusRecords: this.#status,
        fault: this.#fault,
      },
      readings: { expected: this.#s.readingsExpected(), count: this.#readings },
      journal: {
        committed: this.#committed,
        commitErrors: this.#s.journalCommitErrors() - this.#commitErrorsAtStart,
      },
      fleet: { expected: fleet.expected, online: this.#fleetSeen },
      flows: this.#s.flows(),
    };
  }
}
