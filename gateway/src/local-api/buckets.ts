// Buckets for history queries: quarter hours (the gateway's own UTC-aligned metering intervals),
// local hours and local days in a time zone (Europe/Prague by default; DST days have 92 or 100
// quarter hours). Every bucket is a whole number of quarter hours, so sums of the gateway's
// quarter-hour intervals are exact.
import { floorQuarterHour, localMidnightMs, QUARTER_HOUR_MS, zoneOffsetMs } from '@brana/firmware';

export const STEPS = ['15m', '1h', '1d'] as const;
export type Step = (typeof STEPS)[number];
const HOUR_MS = 3_600_000;

export interface Bucket {
  startMs: number;
  endMs: number;
  /** Quarter hours the bucket spans. */
  quarters: number;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

function localDate(ms: number, timeZone: string): string {
  return new Date(ms + zoneOffsetMs(ms, timeZone)).toISOString().slice(0, 10);
}

function nextDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** Start of the bucket holding instant `ms`. */
export function bucketStart(ms: number, step: Step, timeZone: string): number {
  if (step === '15m') return floorQuarterHour(ms);
  if (step === '1h') return ms - mod(ms + zoneOffsetMs(ms, timeZone), HOUR_MS);
  const midnight = localMidnightMs(localDate(ms, timeZone), timeZone);
  // Just after a DST change the date of `ms` may map to a midnight after it; step back a day.
  return midnight <= ms ? midnight : localMidnightMs(localDate(ms - 86_400_000, timeZone), timeZone);
}

function bucketEnd(start: number, step: Step, timeZone: string): number {
  if (step === '15m') return start + QUARTER_HOUR_MS;
  if (step === '1h') return start + HOUR_MS;
  return localMidnightMs(nextDate(localDate(start, timeZone)), timeZone);
}

/** The buckets covering [fromMs, toMs), at most `limit` of them (undefined when there would be more). */
export function bucketsBetween(
  fromMs: number,
  toMs: number,
  step: Step,
  timeZone: string,
  limit: number,
): Bucket[] | undefined {
  const out: Bucket[] = [];
  for (let s = bucketStart(fromMs, step, timeZone); s < toMs; ) {
    if (out.length >= limit) return undefined;
    const e = bucketEnd(s, step, timeZone);
    out.push({ startMs: s, endMs: e, quarters: Math.round((e - s) / QUARTER_HOUR_MS) });
    s = e;
  }
  return out;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
