// Software update as pure decisions: `step(state, input) → { state, commands }`. The shell around
// it (updater.ts) fetches, switches, watches the trial and feeds back what happened; this file
// decides. The state is persisted after every step, and because the process that switches is
// replaced by the one it switched to, every phase can be resumed by a `boot` input that says
// where `current` points and whether the switch record is still there (its removal is the commit).
//
// Invariants (property-tested in machine.test.ts):
//   - nothing is switched before the target was fetched and verified (`fetched`);
//   - a refusal or a failed fetch never touches what runs;
//   - `running` changes only at a commit, and only to the version that passed its trial;
//   - a switch ends in exactly one of commit or switch-back, and switch-back goes to `previous`.

export type UpdatePhase = 'idle' | 'fetching' | 'switching' | 'trial' | 'rollingBack';

/** Why a release was refused before anything changed (none of them is retried for the same version). */
export type RefusalReason =
  | 'bad-signature'
  | 'unknown-key'
  | 'malformed-manifest'
  | 'wrong-platform'
  | 'node-incompatible'
  | 'config-incompatible'
  | 'not-found'
  | 'tampered-file'
  | 'disk-full'
  | 'failed-trial'
  | 'not-installable';

/** Why a fetch stopped in a way that another attempt may fix. */
export type FetchFailureReason =
  | 'server-unreachable'
  | 'truncated'
  | 'server-error'
  | 'timeout'
  | 'rate-limited';

export interface Outcome {
  version: string;
  result: 'committed' | 'rolledBack' | 'refused' | 'failed';
  reason?: string;
  /** Trial checks that failed (rolledBack by the agent). */
  failedChecks?: string[];
  by?: 'agent' | 'guard' | 'boot';
  atMs: number;
}

export interface UpdateEvent {
  type: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
}

export interface UpdateState {
  phase: UpdatePhase;
  /** The committed version (what `current` points at when idle); null before the first. */
  running: string | null;
  /** The version being fetched, switched to or tried. */
  target: string | null;
  /** The version switched from (switching, trial, rollingBack). */
  previous: string | null;
  /** A desired version that arrived while busy (the newest wins). */
  queued: string | null;
  /** The last refused version: not fetched again until another version is desired. */
  refused: { version: string; reason: RefusalReason } | null;
  attempts: number;
  retryAtMs: number | null;
  /** While rolling back: what the outcome will say. */
  pending: Omit<Outcome, 'atMs'> | null;
  last: Outcome | null;
}

export type UpdateInput =
  | { type: 'desired'; version: string | null; nowMs: number }
  | { type: 'fetched'; version: string; nowMs: number }
  | { type: 'refused'; version: string; reason: RefusalReason; detail: string; nowMs: number }
  | { type: 'fetch-failed'; version: string; reason: FetchFailureReason; detail: string; nowMs: number }
  | { type: 'switch-failed'; version: string; detail: string; nowMs: number }
  | {
      type: 'boot';
      /** Where `current` points now. */
      current: string | undefined;
      /** The switch record is still on disk (no commit yet). */
      switchPending: boolean;
      /** What the guard wrote when it switched back. */
      verdict: string | undefined;
      nowMs: number;
    }
  | { type: 'trial-passed'; version: string; nowMs: number }
  | { type: 'trial-failed'; version: string; failedChecks: string[]; detail: string; nowMs: number }
  | { type: 'tick'; nowMs: number };

export type UpdateCommand =
  | { do: 'fetch'; version: string }
  | { do: 'switch'; from: string | null; to: string }
  | { do: 'start-trial'; version: string }
  | { do: 'commit'; version: string; previous: string | null }
  | { do: 'switch-back'; from: string; to: string; reason: string }
  /** The switch is over without a commit: remove its record (the guard has nothing left to watch). */
  | { do: 'clear-switch' }
  | { do: 'wake'; atMs: number }
  | { do: 'report'; event: UpdateEvent };

export interface UpdatePolicy {
  /** Fetch attempts for one version before it counts as failed (default 6). */
  maxAttempts: number;
  /** First retry after this, doubling, capped at maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_POLICY: UpdatePolicy = { maxAttempts: 6, backoffMs: 2000, maxBackoffMs: 120_000 };

export function initialState(running: string | null): UpdateState {
  return {
    phase: 'idle',
    running,
    target: null,
    previous: null,
    queued: null,
    refused: null,
    attempts: 0,
    retryAtMs: null,
    pending: null,
    last: null,
  };
}

export interface StepResult {
  state: UpdateState;
  commands: UpdateCommand[];
}

const report = (
  type: string,
  severity: UpdateEvent['severity'],
  data: Record<string, unknown>,
): UpdateCommand => ({
  do: 'report',
  event: { type, severity, data },
});

/** Back off before attempt n+1 (n ≥ 1), deterministic: jitter is the shell's business. */
export function backoffMs(policy: UpdatePolicy, attempts: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempts - 1));
}

export function step(s: UpdateState, input: UpdateInput, policy: UpdatePolicy = DEFAULT_POLICY): StepResult {
  switch (input.type) {
    case 'desired':
      return onDesired(s, input.version);
    case 'fetched': {
      if (s.phase !== 'fetching' || s.target !== input.version) return { state: s, commands: [] };
      // A newer version was asked for meanwhile: fetch that instead of switching to this one.
      if (s.queued !== null && s.queued !== s.target) {
        // (Asked to stay on the running version: nothing to switch to.)
        if (s.queued === s.running) return { state: { ...idle(s), queued: null }, commands: [] };
        return startFetch(idle(s), s.queued);
      }
      return {
        state: { ...s, phase: 'switching', previous: s.running, attempts: 0, retryAtMs: null },
        commands: [
          report('release.switching', 'info', { from: s.running, to: input.version }),
          { do: 'switch', from: s.running, to: input.version },
        ],
      };
    }
    case 'refused': {
      if (s.phase !== 'fetching' || s.target !== input.version) return { state: s, commands: [] };
      const outcome: Outcome = {
        version: input.version,
        result: 'refused',
        reason: `${input.reason}: ${input.detail}`,
        atMs: input.nowMs,
      };
      return afterOutcome(
        { ...idle(s), refused: { version: input.version, reason: input.reason }, last: outcome },
        [
          report('release.refused', 'warning', {
            version: input.version,
            reason: input.reason,
            detail: input.detail,
          }),
        ],
      );
    }
    case 'fetch-failed': {
      if (s.phase !== 'fetching' || s.target !== input.version) return { state: s, commands: [] };
      const attempts = s.attempts + 1;
      if (attempts >= policy.maxAttempts) {
        const outcome: Outcome = {
          version: input.version,
          result: 'failed',
          reason: `${input.reason}: ${input.detail} (after ${attempts} attempts)`,
          atMs: input.nowMs,
        };
        return afterOutcome({ ...idle(s), last: outcome }, [
          report('release.failed', 'warning', {
            version: input.version,
            reason: input.reason,
            detail: input.detail,
            attempts,
          }),
        ]);
      }
      const atMs = input.nowMs + backoffMs(policy, attempts);
      return {
        state: { ...s, attempts, retryAtMs: atMs },
        commands: [
          report('release.fetch-retry', 'info', {
            version: input.version,
            attempt: attempts,
            reason: input.reason,
            detail: input.detail,
            retryInS: Math.round((atMs - input.nowMs) / 1000),
          }),
          { do: 'wake', atMs },
        ],
      };
    }
    case 'tick': {
      if (s.phase === 'fetching' && s.retryAtMs !== null && input.nowMs >= s.retryAtMs && s.target !== null) {
        return { state: { ...s, retryAtMs: null }, commands: [{ do: 'fetch', version: s.target }] };
      }
      return { state: s, commands: [] };
    }
    case 'switch-failed': {
      // Restarting the services failed before this process was replaced: whatever runs may be
      // half new, half old. Back to the previous release, which is still installed.
      if (s.phase !== 'switching' || s.target !== input.version) return { state: s, commands: [] };
      return rollBack(s, `switch failed: ${input.detail}`, ['switch'], input.nowMs);
    }
    case 'trial-passed': {
      if (s.phase !== 'trial' || s.target !== input.version) return { state: s, commands: [] };
      const outcome: Outcome = {
        version: input.version,
        result: 'committed',
        by: 'agent',
        atMs: input.nowMs,
      };
      return afterOutcome({ ...idle(s), running: input.version, refused: null, last: outcome }, [
        { do: 'commit', version: input.version, previous: s.previous },
        report('release.committed', 'info', { version: input.version, previous: s.previous }),
      ]);
    }
    case 'trial-failed': {
      if (s.phase !== 'trial' || s.target !== input.version) return { state: s, commands: [] };
      return rollBack(s, input.detail, input.failedChecks, input.nowMs);
    }
    case 'boot':
      return onBoot(s, input);
  }
}

function idle(s: UpdateState): UpdateState {
  return { ...s, phase: 'idle', target: null, previous: null, attempts: 0, retryAtMs: null, pending: null };
}

function startFetch(s: UpdateState, version: string): StepResult {
  return {
    state: { ...s, phase: 'fetching', target: version, queued: null, attempts: 0, retryAtMs: null },
    commands: [report('release.fetching', 'info', { version, running: s.running }), { do: 'fetch', version }],
  };
}

/** After an outcome, the queued version (if any, and worth it) is next. */
function afterOutcome(s: UpdateState, commands: UpdateCommand[]): StepResult {
  const q = s.queued;
  if (q !== null && q !== s.running && q !== s.refused?.version) {
    const next = startFetch({ ...s, queued: null }, q);
    return { state: next.state, commands: [...commands, ...next.commands] };
  }
  return { state: { ...s, queued: null }, commands };
}

function onDesired(s: UpdateState, version: string | null): StepResult {
  if (version === null) return { state: { ...s, queued: null }, commands: [] };
  if (s.phase !== 'idle') {
    if (version === s.target && s.phase !== 'rollingBack')
      return { state: { ...s, queued: null }, commands: [] };
    return { state: { ...s, queued: version }, commands: [] };
  }
  if (version === s.running) return { state: { ...s, refused: null }, commands: [] };
  if (s.refused?.version === version) return { state: s, commands: [] };
  return startFetch({ ...s, refused: null }, version);
}

function rollBack(s: UpdateState, reason: string, failedChecks: string[], nowMs: number): StepResult {
  const to = s.previous;
  const from = s.target!;
  if (to === null) {
    // Nothing to go back to (the first install): keep what there is and say so.
    const outcome: Outcome = {
      version: from,
      result: 'failed',
      reason,
      failedChecks,
      by: 'agent',
      atMs: nowMs,
    };
    return {
      state: { ...idle(s), running: from, last: outcome },
      commands: [
        report('release.failed', 'critical', {
          version: from,
          reason,
          failedChecks,
          detail: 'no previous release to switch back to',
        }),
      ],
    };
  }
  return {
    state: {
      ...s,
      phase: 'rollingBack',
      pending: { version: from, result: 'rolledBack', reason, failedChecks, by: 'agent' },
    },
    commands: [{ do: 'switch-back', from, to, reason }],
  };
}

function onBoot(s: UpdateState, b: Extract<UpdateInput, { type: 'boot' }>): StepResult {
  const cur = b.current;
  switch (s.phase) {
    case 'idle':
    case 'fetching': {
      const running = cur ?? s.running;
      const base = { ...s, running };
      // The state says committed but power went before the switch record was removed: remove it
      // now, or the guard would count boots against a committed release.
      const finishCommit: UpdateCommand[] =
        b.switchPending && cur !== undefined ? [{ do: 'commit', version: cur, previous: null }] : [];
      // A fetch in progress resumes (files already in the store are not fetched again).
      if (s.phase === 'fetching' && s.target !== null) {
        return {
          state: { ...base, retryAtMs: null },
          commands: [...finishCommit, { do: 'fetch', version: s.target }],
        };
      }
      // The refusal of a full disk may be fixed by now: allow one more try after a restart.
      const refused = s.refused?.reason === 'disk-full' ? null : s.refused;
      return { state: { ...base, refused }, commands: finishCommit };
    }
    case 'switching':
    case 'trial': {
      if (cur === s.target && b.switchPending) {
        // This process is the new version (or restarted during its trial): run the trial.
        return {
          state: { ...s, phase: 'trial' },
          commands: [
            ...(s.phase === 'switching'
              ? [report('release.trial', 'info', { version: s.target, previous: s.previous })]
              : []),
            { do: 'start-trial', version: s.target! },
          ],
        };
      }
      if (cur === s.target && !b.switchPending) {
        // The commit point (removing the switch record) passed before the state said so.
        const outcome: Outcome = { version: s.target!, result: 'committed', by: 'boot', atMs: b.nowMs };
        return afterOutcome({ ...idle(s), running: s.target, last: outcome }, [
          { do: 'commit', version: s.target!, previous: s.previous },
          report('release.committed', 'info', { version: s.target, previous: s.previous }),
        ]);
      }
      // `current` is not the target: the guard switched back, or power went before the rename.
      const by = b.verdict !== undefined ? 'guard' : 'boot';
      const reason =
        b.verdict ?? `the switch to ${s.target} did not take effect (restarted before the link moved)`;
      return finishRollback(
        s,
        { version: s.target!, result: 'rolledBack', reason, by, failedChecks: [] },
        cur,
        b.nowMs,
      );
    }
    case 'rollingBack': {
      if (cur === s.target) {
        // The switch back did not happen yet (restarted before the rename): do it now.
        return {
          state: s,
          commands: [
            {
              do: 'switch-back',
              from: s.target!,
              to: s.previous!,
              reason: s.pending?.reason ?? 'trial failed',
            },
          ],
        };
      }
      return finishRollback(
        s,
        s.pending ?? { version: s.target!, result: 'rolledBack', by: 'agent' },
        cur,
        b.nowMs,
      );
    }
  }
}

function finishRollback(
  s: UpdateState,
  pending: Omit<Outcome, 'atMs'>,
  current: string | undefined,
  nowMs: number,
): StepResult {
  const outcome: Outcome = { ...pending, atMs: nowMs };
  const running = current ?? s.previous ?? s.running;
  return afterOutcome(
    {
      ...idle(s),
      running,
      // A version that failed its trial is not tried again until another one is desired.
      refused: { version: pending.version, reason: 'failed-trial' },
      last: outcome,
    },
    [
      { do: 'clear-switch' },
      report('release.rolled-back', 'critical', {
        version: pending.version,
        to: running,
        by: pending.by,
        reason: pending.reason,
        failedChecks: pending.failedChecks ?? [],
      }),
    ],
  );
}
