// Counting a chaos run's readings against their source. Pure: the meters' answer log and what the
// fleet database holds in, a classification of every answered read out.
//
// A meter answer to a read of registers [address, address+count) becomes, at the gateway, one
// reading per polled point in that range, all stamped with the same time (the fieldbus decodes a
// block at once). So the stored readings of a device are grouped by time, and each group is matched
// to the answer it came from: same function code, its points inside the answer's range, its time
// within a tolerance of the answer's (after the gateway's clock offset at that moment).

export interface MeterAnswer {
  site: string;
  unit: number;
  fc: number;
  address: number;
  count: number;
  /** Wall time (real clock of this process) the meter answered, ms. */
  atMs: number;
}

export interface DevicePoints {
  /** Channel prefix: `<device name slug>.` */
  prefix: string;
  points: { key: string; fc: number; address: number; words: number }[];
}

export interface StoredReading {
  site: string;
  channel: string;
  ts: number;
}

/** A fault the gateway itself recorded for one read (fieldbus.fault events): it got no usable answer. */
export interface StoredReadFault {
  site: string;
  device: string;
  fc: number;
  address: number;
  count: number;
  ts: number;
}

export type AnswerFate =
  /** Stored at the fleet. */
  | 'stored'
  /** The gateway recorded a failed read for it (a late or garbled answer): never a reading. */
  | 'missed'
  /** Not stored; an excuse function said why (a process killed -9 holding it, a full disk…). */
  | { excused: string }
  /** Not stored, and nothing explains it. */
  | 'lost';

export interface CountOptions {
  /** Largest |reading time − answer time − clock offset|, ms. */
  toleranceMs: number;
  /** The gateway clock offsets (s) that may have stamped a reading made at `atMs` at a site. */
  offsetsAt(site: string, atMs: number): readonly number[];
  /** Why an answer that was not stored is excused, or null. */
  excuse(answer: MeterAnswer): string | null;
}

export interface CountResult {
  answers: number;
  stored: number;
  missed: number;
  lost: number;
  excused: Record<string, number>;
  /** Readings stored more than once (the extra copies). */
  duplicated: number;
  /** Stored groups no answer accounts for (stale re-sends of an offline device, for instance). */
  unmatchedGroups: number;
  /** The first few lost answers, for the report. */
  lostSamples: MeterAnswer[];
}

interface Group {
  ts: number;
  fc: number;
  lo: number;
  hi: number;
  matched: boolean;
}

/** Duplicates: the same channel at the same time stored more than once, per site. */
export function countDuplicates(readings: readonly StoredReading[]): number {
  const seen = new Map<string, number>();
  let dup = 0;
  for (const r of readings) {
    const k = `${r.site}\u0000${r.channel}\u0000${r.ts}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    if (n > 1) dup++;
  }
  return dup;
}

function groupsOf(readings: readonly StoredReading[], device: DevicePoints): Group[] {
  const byKey = new Map(device.points.map((p) => [p.key, p]));
  const byTs = new Map<number, Group>();
  for (const r of readings) {
    if (!r.channel.startsWith(device.prefix)) continue;
    const p = byKey.get(r.channel.slice(device.prefix.length));
    if (!p) continue;
    let g = byTs.get(r.ts);
    if (!g) {
      g = { ts: r.ts, fc: p.fc, lo: p.address, hi: p.address + p.words, matched: false };
      byTs.set(r.ts, g);
    } else {
      // Mixed function codes at one time cannot come from one read (a stale re-send of all points).
      if (g.fc !== p.fc) g.fc = -1;
      g.lo = Math.min(g.lo, p.address);
      g.hi = Math.max(g.hi, p.address + p.words);
    }
  }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/** First index in sorted `groups` with ts ≥ t. */
function lowerBound(groups: readonly Group[], t: number): number {
  let lo = 0;
  let hi = groups.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (groups[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function countReadings(
  answers: readonly MeterAnswer[],
  devices: ReadonlyMap<string, ReadonlyMap<number, DevicePoints>>,
  stored: readonly StoredReading[],
  faults: readonly StoredReadFault[],
  o: CountOptions,
): CountResult & { fates: AnswerFate[] } {
  const bySite = new Map<string, StoredReading[]>();
  for (const r of stored) {
    const list = bySite.get(r.site) ?? [];
    if (list.length === 0) bySite.set(r.site, list);
    list.push(r);
  }
  const groups = new Map<string, Group[]>();
  for (const [site, units] of devices) {
    for (const [unit, device] of units)
      groups.set(`${site}/${unit}`, groupsOf(bySite.get(site) ?? [], device));
  }
  const result: CountResult & { fates: AnswerFate[] } = {
    answers: answers.length,
    stored: 0,
    missed: 0,
    lost: 0,
    excused: {},
    duplicated: countDuplicates(stored),
    unmatchedGroups: 0,
    lostSamples: [],
    fates: [],
  };
  const sorted = answers.map((a, i) => ({ a, i })).sort((x, y) => x.a.atMs - y.a.atMs);
  const fates: AnswerFate[] = new Array(answers.length);
  for (const { a, i } of sorted) {
    const list = groups.get(`${a.site}/${a.unit}`) ?? [];
    let best: Group | undefined;
    let bestDelta = Number.POSITIVE_INFINITY;
    for (const offsetS of o.offsetsAt(a.site, a.atMs)) {
      const expected = a.atMs + offsetS * 1000;
      for (let k = lowerBound(list, expected - o.toleranceMs); k < list.length; k++) {
        const g = list[k]!;
        if (g.ts > expected + o.toleranceMs) break;
        if (g.matched || g.fc !== a.fc || g.lo < a.address || g.hi > a.address + a.count) continue;
        const delta = Math.abs(g.ts - expected);
        if (delta < bestDelta) {
          best = g;
          bestDelta = delta;
        }
      }
    }
    if (best) {
      best.matched = true;
      fates[i] = 'stored';
      continue;
    }
    const device = devices.get(a.site)?.get(a.unit);
    const name = device?.prefix.slice(0, -1);
    const missed = faults.some(
      (f) =>
        f.site === a.site &&
        f.device === name &&
        f.fc === a.fc &&
        f.address === a.address &&
        f.count === a.count &&
        o
          .offsetsAt(a.site, a.atMs)
          .some((off) => Math.abs(f.ts - (a.atMs + off * 1000)) <= o.toleranceMs + 5000),
    );
    if (missed) {
      fates[i] = 'missed';
      continue;
    }
    const why = o.excuse(a);
    fates[i] = why === null ? 'lost' : { excused: why };
  }
  for (const f of fates) {
    if (f === 'stored') result.stored++;
    else if (f === 'missed') result.missed++;
    else if (f === 'lost') result.lost++;
    else result.excused[f.excused] = (result.excused[f.excused] ?? 0) + 1;
  }
  for (const { a, i } of sorted) {
    if (fates[i] === 'lost' && result.lostSamples.length < 10) result.lostSamples.push(a);
  }
  for (const list of groups.values()) for (const g of list) if (!g.matched) result.unmatchedGroups++;
  result.fates = fates;
  return result;
}
