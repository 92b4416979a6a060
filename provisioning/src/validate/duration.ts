import { InvalidInputError } from '../errors.ts';

// Durations as a technician types them: `7d`, `48h`, `90m`, `2w`, or a sequence such as `1d12h`.
// Units: m(inutes), h(ours), d(ays), w(eeks). A bare number is refused: its unit would be a guess.

const UNIT_S = { m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
const PART = /(\d{1,6})([mhdw])/gy;

/** Seconds in `text`, or a description of what is wrong. */
export function parseDurationS(text: string): { ok: true; seconds: number } | { ok: false; problem: string } {
  const t = text.trim().toLowerCase();
  if (t.length === 0) return { ok: false, problem: 'is empty' };
  if (/^\d+$/.test(t)) return { ok: false, problem: `"${text}" has no unit` };
  PART.lastIndex = 0;
  let seconds = 0;
  let at = 0;
  for (;;) {
    const m = PART.exec(t);
    if (!m) break;
    seconds += Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
    at = PART.lastIndex;
  }
  if (at !== t.length || at === 0) return { ok: false, problem: `"${text}" is not a duration` };
  if (seconds <= 0) return { ok: false, problem: `"${text}" is zero` };
  return { ok: true, seconds };
}

/** Formats seconds back as the shortest `1w2d3h4m` form (whole minutes). */
export function formatDurationS(seconds: number): string {
  let rest = Math.round(seconds / 60) * 60;
  let out = '';
  for (const [unit, s] of [
    ['w', UNIT_S.w],
    ['d', UNIT_S.d],
    ['h', UNIT_S.h],
    ['m', UNIT_S.m],
  ] as const) {
    const n = Math.floor(rest / s);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * s;
  }
  return out || '0m';
}

/** Parses a duration flag within [minS, maxS]; throws naming the flag and the fix. */
export function durationFlag(text: string, where: string, maxS: number, minS = 60): number {
  const r = parseDurationS(text);
  const fix = `give a number with a unit m, h, d or w, e.g. 7d or 48h (between ${formatDurationS(minS)} and ${formatDurationS(maxS)})`;
  if (!r.ok) throw new InvalidInputError(where, r.problem, fix);
  if (r.seconds < minS || r.seconds > maxS) {
    throw new InvalidInputError(where, `${formatDurationS(r.seconds)} is out of range`, fix);
  }
  return r.seconds;
}
