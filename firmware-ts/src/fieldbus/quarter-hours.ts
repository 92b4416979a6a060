// Quarter-hour (15 min) energy and volume intervals from a monotonic counter total, computed on
// the gateway. Boundaries are UTC multiples of 15 minutes: the metering interval of the EU
// electricity market, and in every whole-hour time zone also the local quarter hours. A local day
// therefore has 96 of them, 92 on the spring DST day and 100 on the autumn one (Europe/Prague).
//
// The counter value at a boundary is interpolated between the readings either side of it. An
// interval whose boundary had to be bridged over a long gap (gateway down, bus silent, clock
// stepped forward) is marked `estimated`; the first interval ever seen is `partial`. A wall clock
// stepped backwards does not reopen closed intervals: time is held at the latest reading seen and
// use is booked into the open interval until the clock catches up. Nothing is lost or counted twice.

export const QUARTER_HOUR_MS = 15 * 60 * 1000;

export type IntervalQuality = 'complete' | 'estimated' | 'partial';

export interface IntervalState {
  /** Start of the open interval, UTC ms, a multiple of QUARTER_HOUR_MS. */
  startMs: number;
  /** Counter total at `startMs` (interpolated). */
  startTotal: number;
  startQuality: IntervalQuality;
  /** Latest wall time seen (never decreases) and the counter total then. */
  lastMs: number;
  lastTotal: number;
}

export interface ClosedInterval {
  startMs: number;
  endMs: number;
  /** Use in the interval, engineering units (kWh, m³). */
  delta: number;
  quality: IntervalQuality;
}

export interface IntervalOptions {
  /** Readings further apart than this make the boundaries between them estimates. Default 5 min. */
  maxGapMs?: number;
}

export const floorQuarterHour = (ms: number) => Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;

export function intervalStep(
  prev: IntervalState | undefined,
  sample: { atMs: number; total: number },
  options: IntervalOptions = {},
): { state: IntervalState; closed: ClosedInterval[] } {
  const maxGapMs = options.maxGapMs ?? 5 * 60 * 1000;
  if (!prev) {
    const startMs = floorQuarterHour(sample.atMs);
    return {
      state: {
        startMs,
        startTotal: sample.total,
        startQuality: startMs === sample.atMs ? 'complete' : 'partial',
        lastMs: sample.atMs,
        lastTotal: sample.total,
      },
      closed: [],
    };
  }
  if (sample.atMs <= prev.lastMs) {
    return { state: { ...prev, lastTotal: sample.total }, closed: [] };
  }
  const closed: ClosedInterval[] = [];
  const span = sample.atMs - prev.lastMs;
  const bridged = span > maxGapMs;
  let { startMs, startTotal, startQuality } = prev;
  for (let end = startMs + QUARTER_HOUR_MS; end <= sample.atMs; end += QUARTER_HOUR_MS) {
    const atEnd = prev.lastTotal + ((sample.total - prev.lastTotal) * (end - prev.lastMs)) / span;
    const endQuality: IntervalQuality = bridged && end !== sample.atMs ? 'estimated' : 'complete';
    closed.push({ startMs, endMs: end, delta: atEnd - startTotal, quality: worst(startQuality, endQuality) });
    startMs = end;
    startTotal = atEnd;
    startQuality = endQuality;
  }
  return {
    state: { startMs, startTotal, startQuality, lastMs: sample.atMs, lastTotal: sample.total },
    closed,
  };
}

function worst(a: IntervalQuality, b: IntervalQuality): IntervalQuality {
  if (a === 'partial' || b === 'partial') return 'partial';
  if (a === 'estimated' || b === 'estimated') return 'estimated';
  return 'complete';
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (Europe/Prague: +1 h winter, +2 h summer). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** UTC instant of local midnight starting the calendar day `isoDate` (YYYY-MM-DD) in `timeZone`. */
export function localMidnightMs(isoDate: string, timeZone: string): number {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const naive = Date.UTC(y, m - 1, d);
  let guess = naive - zoneOffsetMs(naive, timeZone);
  // A second pass settles the guess when the offset differs across the day boundary.
  guess = naive - zoneOffsetMs(guess, timeZone);
  return guess;
}

/** Quarter-hour interval starts that fall on the local calendar day `isoDate` in `timeZone`. */
export function quarterHoursOfLocalDay(isoDate: string, timeZone: string): number[] {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const from = localMidnightMs(isoDate, timeZone);
  const nextIso = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
  const to = localMidnightMs(nextIso, timeZone);
  const starts: number[] = [];
  for (let t = from; t < to; t += QUARTER_HOUR_MS) starts.push(t);
  return starts;
}
