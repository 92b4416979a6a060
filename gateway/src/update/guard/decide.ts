// The guard's decisions, pure: given the switch record, the counts and where `current` points,
// what to do at boot, at an agent start and while the trial runs. The guard acts on a switch only
// while `current` points at its target: once the link is back on `from` (the agent switched back,
// or a power cut came before the rename), there is nothing left to guard.

export interface RestartCommand {
  command: string;
  args: string[];
}

/** Written by whoever switches, just before the rename; removed when the trial passes. */
export interface SwitchRecord {
  id: string;
  from: string;
  to: string;
  /** Trial window of the agent; the guard waits this plus graceMs for the commit. */
  trialMs: number;
  graceMs: number;
  /** Starts of the agent unit (after the switch) beyond which the new version counts as not starting. */
  maxStarts: number;
  /** Boots with the new version on trial beyond which it counts as not starting. */
  maxBoots: number;
  agentUnit: string;
  /** Restart the services in order (rt, fieldbus, agent) after switching back. */
  restart: RestartCommand[];
}

export function parseSwitchRecord(value: unknown): SwitchRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === 'string' && (r[k] as string).length > 0;
  const num = (k: string) => typeof r[k] === 'number' && Number.isFinite(r[k]) && (r[k] as number) >= 0;
  if (!['id', 'from', 'to', 'agentUnit'].every(str)) return undefined;
  if (!['trialMs', 'graceMs', 'maxStarts', 'maxBoots'].every(num)) return undefined;
  if (!Array.isArray(r.restart)) return undefined;
  const restart: RestartCommand[] = [];
  for (const c of r.restart) {
    const cmd = c as { command?: unknown; args?: unknown };
    if (
      typeof cmd?.command !== 'string' ||
      !Array.isArray(cmd.args) ||
      !cmd.args.every((a) => typeof a === 'string')
    ) {
      return undefined;
    }
    restart.push({ command: cmd.command, args: cmd.args as string[] });
  }
  return {
    id: r.id as string,
    from: r.from as string,
    to: r.to as string,
    trialMs: r.trialMs as number,
    graceMs: r.graceMs as number,
    maxStarts: r.maxStarts as number,
    maxBoots: r.maxBoots as number,
    agentUnit: r.agentUnit as string,
    restart,
  };
}

export type GuardAction =
  | { do: 'nothing'; why: string }
  | { do: 'count-boot' }
  | { do: 'switch-back'; reason: string; restart: boolean }
  | { do: 'watch'; untilMs: number };

export interface GuardView {
  record: SwitchRecord | undefined;
  /** Where `current` points (undefined: missing link). */
  current: string | undefined;
  /** Which releases are installed (complete directories). */
  installed: ReadonlySet<string>;
  /** Boot ids counted for this switch, and this boot's. */
  bootsCounted: readonly string[];
  bootId: string;
  /** Starts of the agent unit since the switch. */
  agentStarts: number;
}

/** At boot, before any Brána service starts. */
export function decideAtBoot(v: GuardView): GuardAction {
  const r = v.record;
  if (v.current === undefined || !v.installed.has(v.current)) {
    // Nothing can start without a link to a complete release: take the best one there is.
    if (r !== undefined && v.installed.has(r.from))
      return { do: 'switch-back', reason: `current link missing; back to ${r.from}`, restart: false };
    return { do: 'nothing', why: 'current link missing and no switch record to repair it from' };
  }
  if (r === undefined) return { do: 'nothing', why: 'no switch pending' };
  if (v.current !== r.to)
    return { do: 'nothing', why: `switch to ${r.to} not in effect (current is ${v.current})` };
  if (v.bootsCounted.includes(v.bootId)) return { do: 'nothing', why: 'this boot is counted already' };
  if (v.bootsCounted.length + 1 > r.maxBoots) {
    if (!v.installed.has(r.from))
      return {
        do: 'nothing',
        why: `${r.to} is over its boot limit but ${r.from} is not installed to go back to`,
      };
    return {
      do: 'switch-back',
      reason: `${r.to} did not pass its trial in ${v.bootsCounted.length + 1} boots (limit ${r.maxBoots})`,
      restart: false,
    };
  }
  return { do: 'count-boot' };
}

/** While the guard runs: `startedMs` is when this guard process began watching (monotonic). */
export function decideWatching(v: GuardView, startedMs: number, nowMs: number): GuardAction {
  const r = v.record;
  if (r === undefined) return { do: 'nothing', why: 'no switch pending (committed or never made)' };
  if (v.current !== r.to) return { do: 'nothing', why: `current is ${v.current ?? 'missing'}, not ${r.to}` };
  if (!v.installed.has(r.from))
    return { do: 'nothing', why: `${r.from} is not installed: nothing to switch back to` };
  if (v.agentStarts > r.maxStarts) {
    return {
      do: 'switch-back',
      reason: `the agent of ${r.to} started ${v.agentStarts} times without passing its trial (limit ${r.maxStarts})`,
      restart: true,
    };
  }
  const untilMs = startedMs + r.trialMs + r.graceMs;
  if (nowMs >= untilMs) {
    return {
      do: 'switch-back',
      reason: `${r.to} was not committed within ${Math.round((r.trialMs + r.graceMs) / 1000)} s of its trial`,
      restart: true,
    };
  }
  return { do: 'watch', untilMs };
}
