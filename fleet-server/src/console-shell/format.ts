// Formatting for pages: times in the region's time zone, numbers in the reader's language.
import type { Lang } from './locales/index.ts';

export interface Formatter {
  lang: Lang;
  timeZone: string;
  dateTime(ms: number | null | undefined): string;
  time(ms: number): string;
  date(ms: number): string;
  number(n: number | null | undefined, digits?: number): string;
  /** YYYY-MM-DD of ms in the time zone (for date inputs). */
  isoDate(ms: number): string;
  /** Hour of day 0-23 of ms in the time zone. */
  hour(ms: number): number;
}

export function formatter(lang: Lang, timeZone: string): Formatter {
  const locale = lang === 'cs' ? 'cs-CZ' : 'en-GB';
  const dt = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'short', timeStyle: 'medium' });
  const t = new Intl.DateTimeFormat(locale, { timeZone, timeStyle: 'medium' });
  const d = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium' });
  const iso = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const h = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' });
  const nums = new Map<number, Intl.NumberFormat>();
  return {
    lang,
    timeZone,
    dateTime: (ms) => (ms === null || ms === undefined ? '–' : dt.format(ms)),
    time: (ms) => t.format(ms),
    date: (ms) => d.format(ms),
    number: (n, digits = 2) => {
      if (n === null || n === undefined || !Number.isFinite(n)) return '–';
      let f = nums.get(digits);
      if (!f) {
        f = new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
        nums.set(digits, f);
      }
      return f.format(n);
    },
    isoDate: (ms) => iso.format(ms),
    hour: (ms) => Number(h.format(ms)),
  };
}

// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone and purpose.
const cache = new Map<string, Intl.DateTimeFormat>();
function cached(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = cache.get(key);
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f;
}

// Local midnight (across DST changes) is the fieldbus's own rule for quarter-hour days: one
// implementation serves both.
export { localMidnightMs as startOfLocalDay } from '@brana/firmware';

/** The local calendar month "YYYY-MM" of ms. */
export function localMonth(ms: number, timeZone: string): string {
  return cached(
    `month|${timeZone}`,
    () => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }),
  ).format(ms);
}
