// Which records matter how much. Every record the journal takes belongs to one class:
//   reading  — measurements; under disk pressure the oldest unsent ones go first;
//   critical — assertions, releases, faults, alarms, quarter-hour energy intervals, the journal's
//              own reports: never dropped, never evicted;
//   event    — other events (device status, drift, config): a generous quota per minute and a
//              cap on how many wait unsent, so a flood of them cannot fill the disk;
//   bulk     — low-value floods (per-frame rejections, status counters): a tight quota.
// What a quota refuses is counted by class and type and reported to the fleet. Some critical
// events are also urgent: they are written (fsync) at once instead of with the next group.
import type { ParsedAgentRecord } from '@brana/firmware';

export type RecordClass = 'reading' | 'critical' | 'event' | 'bulk';
/** How the journal stores them: critical and other events share chunks (neither is ever evicted). */
export type Lane = 'reading' | 'event' | 'bulk';

/** Event type patterns: an exact type, or a prefix ending in `.*`, or `*.` followed by a suffix. */
export interface ClassRules {
  /** Low-value types; they are bulk even when flagged safety-relevant (a rejection is not an assertion). */
  bulkTypes: readonly string[];
  /** Types that are never dropped. Safety-flagged events and severity `critical` are too. */
  criticalTypes: readonly string[];
  /** Critical types written at once rather than with the next group (safety-flagged events always are). */
  urgentTypes: readonly string[];
}

export const DEFAULT_CLASS_RULES: ClassRules = {
  bulkTypes: ['preemption.rejected'],
  criticalTypes: [
    'fault',
    '*.fault',
    'alarm.*',
    'preemption.*',
    'relay.*',
    'selftest.*',
    'fieldbus.interval',
    'journal.*',
  ],
  urgentTypes: ['fault', 'preemption.*', 'alarm.*', 'relay.*', 'selftest.*'],
};

/** How much of a class the journal takes: a token bucket, and a cap on what waits unsent. */
export interface ClassQuota {
  perMinute: number;
  burst: number;
  /** Records of the class held in the journal (not yet acked by the fleet) at most. */
  held: number;
}

export const DEFAULT_QUOTAS: Record<'event' | 'bulk', ClassQuota> = {
  event: { perMinute: 600, burst: 1200, held: 20_000 },
  bulk: { perMinute: 120, burst: 600, held: 5000 },
};

export function matchesType(type: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p === type) return true;
    if (p.endsWith('.*') && type.startsWith(p.slice(0, -1))) return true;
    if (p.startsWith('*.') && type.endsWith(p.slice(1))) return true;
  }
  return false;
}

export function classify(record: ParsedAgentRecord, rules: ClassRules = DEFAULT_CLASS_RULES): RecordClass {
  if (record.kind === 'reading') return 'reading';
  if (record.kind === 'status') return 'bulk';
  if (matchesType(record.type, rules.bulkTypes)) return 'bulk';
  if (record.safety || record.severity === 'critical' || matchesType(record.type, rules.criticalTypes))
    return 'critical';
  return 'event';
}

export function laneOf(cls: RecordClass): Lane {
  return cls === 'reading' ? 'reading' : cls === 'bulk' ? 'bulk' : 'event';
}

export function isSafety(r: ParsedAgentRecord): boolean {
  return r.kind === 'event' && r.safety;
}

/** Records per class in a group, and its safety events (flagged rejections are bulk, not counted). */
export function countClasses(
  records: readonly { record: ParsedAgentRecord }[],
  rules: ClassRules = DEFAULT_CLASS_RULES,
): { readings: number; critical: number; events: number; bulk: number; safety: number } {
  const n = { readings: 0, critical: 0, events: 0, bulk: 0, safety: 0 };
  for (const { record } of records) {
    const cls = classify(record, rules);
    if (cls === 'reading') n.readings++;
    else if (cls === 'critical') n.critical++;
    else if (cls === 'event') n.events++;
    else n.bulk++;
    if (cls !== 'bulk' && isSafety(record)) n.safety++;
  }
  return n;
}

/** Whether a record is written at once (with whatever waits) rather than with the next group. */
export function isUrgent(record: ParsedAgentRecord, rules: ClassRules = DEFAULT_CLASS_RULES): boolean {
  if (record.kind !== 'event' || matchesType(record.type, rules.bulkTypes)) return false;
  return record.safety || record.severity === 'critical' || matchesType(record.type, rules.urgentTypes);
}

export interface Bucket {
  tokens: number;
  /** Monotonic ms of the last refill. */
  atMs: number;
}

export type Admission =
  | { admitted: true; bucket: Bucket }
  | { admitted: false; bucket: Bucket; reason: 'rate' | 'held' };

/**
 * One record of a quota'd class asks to be taken at `nowMs` (monotonic) while `held` of its class
 * wait in the journal. Pure: the caller keeps the returned bucket.
 */
export function admit(bucket: Bucket | undefined, quota: ClassQuota, nowMs: number, held: number): Admission {
  const start = bucket ?? { tokens: quota.burst, atMs: nowMs };
  const elapsed = Math.max(0, nowMs - start.atMs);
  const tokens = Math.min(quota.burst, start.tokens + (elapsed * quota.perMinute) / 60_000);
  const refilled = { tokens, atMs: Math.max(start.atMs, nowMs) };
  if (held >= quota.held) return { admitted: false, bucket: refilled, reason: 'held' };
  if (tokens < 1) return { admitted: false, bucket: refilled, reason: 'rate' };
  return { admitted: true, bucket: { tokens: tokens - 1, atMs: refilled.atMs } };
}
