import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelPatterns,
  channelTopic,
  checkChannelPattern,
  checkEventPattern,
  eventPatterns,
  PatternSet,
} from './patterns.ts';

/** Independent oracle: a backtracking glob match where `*` never crosses '/'. */
function globMatch(pattern: string, text: string): boolean {
  if (pattern === '') return text === '';
  if (pattern[0] === '*') {
    for (let i = 0; i <= text.length; i++) {
      if (text.slice(0, i).includes('/')) break;
      if (globMatch(pattern.slice(1), text.slice(i))) return true;
    }
    return false;
  }
  return text.length > 0 && pattern[0] === text[0] && globMatch(pattern.slice(1), text.slice(1));
}

const nameChar = fc.constantFrom(...'abcdeAB01-_'.split(''));
const name = fc.string({ unit: nameChar, minLength: 1, maxLength: 8 });
const patternPart = fc.string({ unit: fc.constantFrom(...'abAB0-_*'.split('')), minLength: 1, maxLength: 6 });

describe('channel patterns', () => {
  it('match exactly what a glob over device/point matches', () => {
    fc.assert(
      fc.property(patternPart, patternPart, name, name, (pd, pp, d, p) => {
        const checked = checkChannelPattern(`${pd}/${pp}`);
        expect(checked.ok).toBe(true);
        const set = channelPatterns([`${pd}/${pp}`]);
        expect(set.matches(`${d}.${p}`)).toBe(globMatch(`${pd}/${pp}`, `${d}/${p}`));
      }),
    );
  });

  it('a pattern made from a channel by starring any run of one part matches it', () => {
    fc.assert(
      fc.property(name, name, fc.nat(), fc.nat(), fc.boolean(), (d, p, a, b, inDevice) => {
        const part = inDevice ? d : p;
        const from = a % (part.length + 1);
        const to = from + (b % (part.length - from + 1));
        const starred = `${part.slice(0, from)}*${part.slice(to)}`;
        const pattern = inDevice ? `${starred}/${p}` : `${d}/${starred}`;
        expect(channelPatterns([pattern]).matches(`${d}.${p}`)).toBe(true);
      }),
    );
  });

  it('canonical forms: "*" is everything, a bare device is all its points, dots become the slash', () => {
    expect(checkChannelPattern('*')).toEqual({ ok: true, pattern: '*/*' });
    expect(checkChannelPattern('main-meter')).toEqual({ ok: true, pattern: 'main-meter/*' });
    expect(checkChannelPattern('main-meter.powerW')).toEqual({ ok: true, pattern: 'main-meter/powerW' });
    const all = channelPatterns(['*/*']);
    expect(all.matches('anything.atAll')).toBe(true);
    expect(channelPatterns(['main-meter/*']).matches('main-meter.energyImportKWh')).toBe(true);
    expect(channelPatterns(['main-meter/*']).matches('kitchen.energyImportKWh')).toBe(false);
  });

  it('refuses what is not a pattern, saying why', () => {
    for (const bad of ['', 'a/b/c', 'a b/c', 'main/po;wer', 'x'.repeat(201), 42, null]) {
      const r = checkChannelPattern(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
    }
    expect(checkChannelPattern('a/b/c')).toMatchObject({ message: expect.stringContaining('2 slashes') });
  });

  it('an empty set matches nothing', () => {
    expect(channelPatterns([]).matches('a.b')).toBe(false);
    expect(channelPatterns([]).empty).toBe(true);
  });

  it('keeps answering right past its memo bound', () => {
    const set = channelPatterns(['m/*']);
    for (let i = 0; i < PatternSet.MEMO_LIMIT + 10; i++) set.matches(`d${i}.x`);
    expect(set.matches('m.x')).toBe(true);
    expect(set.matches('n.x')).toBe(false);
  });

  it('topics are device/point', () => {
    expect(channelTopic('boiler-room.energyImportKWh')).toBe('boiler-room/energyImportKWh');
    expect(channelTopic('plain')).toBe('plain');
  });
});

describe('event patterns', () => {
  it('"alarm.*" takes every alarm event and nothing else', () => {
    const set = eventPatterns(['alarm.*']);
    expect(set.matches('alarm.raised')).toBe(true);
    expect(set.matches('alarm.acknowledged')).toBe(true);
    expect(set.matches('preemption.asserted')).toBe(false);
    expect(set.matches('alarmx.raised')).toBe(false);
  });

  it('match exactly what the glob oracle matches', () => {
    const word = fc.string({ unit: fc.constantFrom(...'abc.-'.split('')), minLength: 1, maxLength: 8 });
    const pat = fc.string({ unit: fc.constantFrom(...'abc.*'.split('')), minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(pat, word, (p, t) => {
        fc.pre(/^[a-z0-9*]/.test(p) && !p.includes('..'));
        expect(checkEventPattern(p).ok).toBe(true);
        expect(eventPatterns([p]).matches(t)).toBe(globMatch(p, t));
      }),
    );
  });

  it('refuses upper case, spaces and empty words', () => {
    for (const bad of ['Alarm.*', 'alarm raised', 'alarm..x', '', '.alarm']) {
      expect(checkEventPattern(bad).ok).toBe(false);
    }
  });
});
