import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationFlag, formatDurationS, parseDurationS } from './duration.ts';

const UNITS = { m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

describe('durations like 7d', () => {
  it('sums any sequence of number+unit parts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom('m', 'h', 'd', 'w')), {
          minLength: 1,
          maxLength: 4,
        }),
        (parts) => {
          const text = parts.map(([n, u]) => `${n}${u}`).join('');
          const total = parts.reduce((s, [n, u]) => s + n * UNITS[u], 0);
          const r = parseDurationS(text);
          if (total === 0) expect(r.ok).toBe(false);
          else expect(r).toEqual({ ok: true, seconds: total });
        },
      ),
    );
  });

  it('formats and parses back to the same whole minutes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (minutes) => {
        const r = parseDurationS(formatDurationS(minutes * 60));
        expect(r).toEqual({ ok: true, seconds: minutes * 60 });
      }),
    );
  });

  it('refuses bare numbers, unknown units and junk', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseDurationS(s);
        if (r.ok) expect(s.trim().toLowerCase()).toMatch(/^(\d{1,6}[mhdw])+$/);
      }),
    );
    for (const bad of ['7', '7x', 'd7', '7 d', '', '0d', '-1d', '1.5d', '7dd']) {
      expect(parseDurationS(bad).ok, bad).toBe(false);
    }
    expect(parseDurationS('7D')).toEqual({ ok: true, seconds: 7 * 86_400 });
  });

  it('checks the range of a flag and says how to write one', () => {
    expect(durationFlag('7d', '--expires', 365 * 86_400)).toBe(604_800);
    expect(() => durationFlag('400d', '--expires', 365 * 86_400)).toThrow(
      /--expires: 57w1d is out of range\. Fix: .*e\.g\. 7d/,
    );
    expect(() => durationFlag('7', '--expires', 365 * 86_400)).toThrow(/has no unit/);
  });
});
