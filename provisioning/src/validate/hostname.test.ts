import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { hostnameProblem, isValidHostname, parseHostname } from './hostname.ts';

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
const inner = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-');
const label = fc
  .tuple(alnum, fc.array(inner, { maxLength: 61 }), alnum)
  .map(([a, mid, b]) => a + mid.join('') + b)
  .filter((l) => l.length <= 63);
const hostname = fc
  .array(label, { minLength: 1, maxLength: 4 })
  .map((ls) => ls.join('.'))
  .filter((h) => h.length <= 253 && !/^[0-9.]+$/.test(h));

describe('hostname (RFC 1123)', () => {
  it('accepts every name built from valid labels, and lower-cases it', () => {
    fc.assert(
      fc.property(hostname, (h) => {
        expect(hostnameProblem(h)).toBeUndefined();
        expect(parseHostname(h)).toBe(h.toLowerCase());
      }),
    );
  });

  it('refuses a label with a character outside letters, digits and "-"', () => {
    fc.assert(
      fc.property(hostname, fc.constantFrom('_', ' ', '/', 'é', '*', ':', '@'), fc.nat(), (h, bad, at) => {
        const i = at % (h.length + 1);
        const broken = h.slice(0, i) + bad + h.slice(i);
        expect(isValidHostname(broken)).toBe(false);
      }),
    );
  });

  it('refuses a leading or trailing hyphen in any label, empty labels, and over-long names', () => {
    fc.assert(
      fc.property(label, (l) => {
        expect(isValidHostname(`-${l}`)).toBe(false);
        expect(isValidHostname(`${l}-`)).toBe(false);
        expect(isValidHostname(`${l}..${l}`)).toBe(false);
        expect(isValidHostname(`.${l}`)).toBe(false);
      }),
    );
    expect(isValidHostname('a'.repeat(63))).toBe(true);
    expect(isValidHostname('a'.repeat(64))).toBe(false);
    expect(isValidHostname(Array(64).fill('abc').join('.'))).toBe(false); // 255 characters
    expect(isValidHostname('')).toBe(false);
    expect(isValidHostname('10.0.0.1')).toBe(false);
    expect(isValidHostname('3com')).toBe(true); // RFC 1123 allows a leading digit
  });

  it('names the flag and the fix', () => {
    expect(() => parseHostname('zš-01')).toThrow(InvalidInputError);
    expect(() => parseHostname('bad_name')).toThrow(/--hostname: "bad_name" label .* Fix: use letters/);
  });
});
