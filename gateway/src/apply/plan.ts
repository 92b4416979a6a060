// Config apply as pure decisions. `plan(current, desired)` lists the steps that take the gateway
// from what it runs to what the server wants; `step(machine, input)` runs one apply at a time,
// keeps at most one more queued (the newest wins), and on a failure decides between "refuse,
// running config untouched" (before the firmware was touched) and "roll back to last known good".
import type { ConfigRef } from '@brana/protocol';

export type ApplyState = 'idle' | 'staged' | 'trial' | 'committed' | 'rolledBack';

/** What the server is told after each step (the wire protocol's apply states). */
export type ReportedState = 'staged' | 'trial' | 'applied' | 'failed' | 'rolledBack';

export interface ApplyIssue {
  path: string;
  message: string;
  fix?: string;
}

export type ApplyAction =
  | { do: 'verify'; target: ConfigRef }
  | { do: 'validate'; target: ConfigRef }
  | { do: 'stage'; target: ConfigRef }
  | { do: 'restart'; target: ConfigRef }
  | { do: 'trial'; target: ConfigRef }
  | { do: 'commit'; target: ConfigRef }
  /** Restore the last known good config (null: none, stop the firmware's outputs) and restart. */
  | { do: 'rollback'; target: ConfigRef; to: ConfigRef | null }
  | { do: 'report'; target: ConfigRef; state: ReportedState; errors?: ApplyIssue[]; detail?: string };

export type ApplyActionKind = ApplyAction['do'];

export interface CurrentConfig {
  /** What the firmware runs and has passed its trial; null before the first config. */
  running: ConfigRef | null;
  /** A config that failed (verify, validate or trial) and must not be retried as is. */
  refused: ConfigRef | null;
}

export function sameRef(a: ConfigRef | null, b: ConfigRef | null): boolean {
  return a !== null && b !== null && a.version === b.version && a.hash === b.hash;
}

/** The whole happy path from `current` to `desired`; empty when nothing is to be done. */
export function plan(current: CurrentConfig, desired: ConfigRef | null): ApplyAction[] {
  if (desired === null || sameRef(current.running, desired)) return [];
  if (sameRef(current.refused, desired)) {
    return [{ do: 'report', target: desired, state: 'failed', detail: 'refused before; not applied again' }];
  }
  const t = desired;
  return [
    { do: 'verify', target: t },
    { do: 'validate', target: t },
    { do: 'stage', target: t },
    { do: 'report', target: t, state: 'staged' },
    { do: 'restart', target: t },
    { do: 'report', target: t, state: 'trial' },
    { do: 'trial', target: t },
    { do: 'commit', target: t },
    { do: 'report', target: t, state: 'applied' },
  ];
}

/**
 * What to do after `failed` failed. Up to staging the firmware was never touched: report and keep
 * running. From the restart on, the firmware may run the candidate: roll back to `lastGood`.
 */
export function recover(
  failed: ApplyAction,
  lastGood: ConfigRef | null,
  errors: ApplyIssue[] = [],
  detail?: string,
): ApplyAction[] {
  const t = failed.target;
  const withDetail = detail === undefined ? {} : { detail };
  switch (failed.do) {
    case 'verify':
    case 'validate':
    case 'stage':
      return [{ do: 'report', target: t, state: 'failed', errors, ...withDetail }];
    case 'restart':
    case 'trial':
    case 'commit':
      return [
        { do: 'rollback', target: t, to: lastGood },
        { do: 'report', target: t, state: 'rolledBack', errors, ...withDetail },
      ];
    // A failed report or rollback has nothing further to undo; the executor logs it.
    case 'rollback':
    case 'report':
      return [];
  }
}

// ------------------------------------------------------------------ the one-at-a-time machine

export interface ApplyMachine {
  state: ApplyState;
  current: CurrentConfig;
  /** The apply in progress: its target and the actions still to run (the head is running). */
  active: { target: ConfigRef; pending: ApplyAction[]; failing: boolean } | null;
  /** At most one desired config waits behind the active one. */
  queued: ConfigRef | null;
}

export type ApplyInput =
  | { type: 'desired'; ref: ConfigRef | null }
  | { type: 'done' }
  | { type: 'failed'; errors?: ApplyIssue[]; detail?: string };

export interface ApplyStepResult {
  machine: ApplyMachine;
  /** The action to run now, if any; the executor feeds back 'done' or 'failed'. */
  run: ApplyAction | null;
}

export function initialMachine(running: ConfigRef | null, refused: ConfigRef | null = null): ApplyMachine {
  return { state: 'idle', current: { running, refused }, active: null, queued: null };
}

export function step(m: ApplyMachine, input: ApplyInput): ApplyStepResult {
  switch (input.type) {
    case 'desired': {
      if (m.active !== null) {
        // Busy: remember only the newest wish; an equal one is already in hand.
        const queued = sameRef(input.ref, m.active.target) ? null : input.ref;
        return { machine: { ...m, queued }, run: null };
      }
      return start(m, input.ref);
    }
    case 'done':
    case 'failed': {
      if (m.active === null) return { machine: m, run: null };
      const [head, ...rest] = m.active.pending;
      if (head === undefined) return finish(m);
      let machine = m;
      let pending = rest;
      let failing = m.active.failing;
      // A report that could not be delivered does not stop the apply; the executor resends state on reconnect.
      if (input.type === 'done' || head.do === 'report') {
        machine = {
          ...machine,
          state: stateAfter(head, machine.state),
          current: currentAfter(head, machine.current),
        };
      } else if (!failing) {
        failing = true;
        pending = recover(head, machine.current.running, input.errors, input.detail);
        machine = {
          ...machine,
          current: { ...machine.current, refused: head.target },
          state: touchesFirmware(head) ? machine.state : machine.current.running ? 'committed' : 'idle',
        };
      } else if (head.do === 'rollback') {
        // The rollback itself failed: stop everything (outputs off, DESIGN.md) unless that was the
        // stop; then still say so to the server.
        pending = head.to !== null ? [{ do: 'rollback', target: head.target, to: null }, ...rest] : rest;
      }
      if (pending.length === 0) return finish({ ...machine, active: { ...m.active, pending, failing } });
      return {
        machine: { ...machine, active: { target: m.active.target, pending, failing } },
        run: pending[0]!,
      };
    }
  }
}

function start(m: ApplyMachine, ref: ConfigRef | null): ApplyStepResult {
  const actions = plan(m.current, ref);
  if (actions.length === 0 || ref === null) return { machine: { ...m, queued: null }, run: null };
  return {
    machine: { ...m, queued: null, active: { target: ref, pending: actions, failing: false } },
    run: actions[0]!,
  };
}

function finish(m: ApplyMachine): ApplyStepResult {
  const next = m.queued;
  const idle: ApplyMachine = { ...m, active: null, queued: null };
  return next === null ? { machine: idle, run: null } : start(idle, next);
}

function stateAfter(a: ApplyAction, s: ApplyState): ApplyState {
  switch (a.do) {
    case 'stage':
      return 'staged';
    case 'restart':
      return 'trial';
    case 'commit':
      return 'committed';
    case 'rollback':
      return 'rolledBack';
    default:
      return s;
  }
}

function currentAfter(a: ApplyAction, c: CurrentConfig): CurrentConfig {
  if (a.do === 'commit')
    return { running: a.target, refused: sameRef(c.refused, a.target) ? null : c.refused };
  return c;
}

function touchesFirmware(a: ApplyAction): boolean {
  return a.do === 'restart' || a.do === 'trial' || a.do === 'commit';
}
