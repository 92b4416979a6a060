// One contract every `Wires` backend passes (memory bus, socket client). Used by the tests of each.

import { expect, it } from 'vitest';
import type { Level, Wires } from './types.ts';

export interface WiresHarness {
  /** Two views of the same bus (e.g. two clients of one server). */
  a: Wires;
  b: Wires;
  stop(): Promise<void>;
}

function nextEdge(w: Wires, line: string): Promise<{ level: Level; atNs: bigint }> {
  return new Promise((resolve) => {
    const off = w.onEdge(line, (level, atNs) => {
      off();
      resolve({ level, atNs });
    });
  });
}

export function describeWiresContract(create: () => Promise<WiresHarness>): void {
  it('reads 0 from a line never driven', async () => {
    const h = await create();
    try {
      expect(await h.a.read('never.driven')).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('a level set on one side is read on the other', async () => {
    const h = await create();
    try {
      await h.a.set('relay1', 1);
      expect(await h.b.read('relay1')).toBe(1);
      await h.b.set('relay1', 0);
      expect(await h.a.read('relay1')).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('delivers edges, only on change, with a monotonic timestamp from the setter', async () => {
    const h = await create();
    try {
      const seen: Level[] = [];
      h.b.onEdge('in3', (level) => seen.push(level));
      const before = process.hrtime.bigint();
      const first = nextEdge(h.b, 'in3');
      await h.a.set('in3', 1);
      const e = await first;
      expect(e.level).toBe(1);
      expect(e.atNs).toBeGreaterThanOrEqual(before);
      expect(e.atNs).toBeLessThanOrEqual(process.hrtime.bigint());
      await h.a.set('in3', 1);
      const second = nextEdge(h.b, 'in3');
      await h.a.set('in3', 0);
      await second;
      expect(seen).toEqual([1, 0]);
    } finally {
      await h.stop();
    }
  });

  it('stops delivering after unsubscribe', async () => {
    const h = await create();
    try {
      const seen: Level[] = [];
      const off = h.b.onEdge('x', (l) => seen.push(l));
      const edge = nextEdge(h.b, 'x');
      await h.a.set('x', 1);
      await edge;
      off();
      const later = nextEdge(h.b, 'x');
      await h.a.set('x', 0);
      await later;
      expect(seen).toEqual([1]);
    } finally {
      await h.stop();
    }
  });

  it('rejects a bad line name and a bad level with a clear error', async () => {
    const h = await create();
    try {
      await expect(h.a.set('bad name!', 1)).rejects.toThrow(/line name "bad name!" is not valid/);
      await expect(h.a.set('ok', 2 as Level)).rejects.toThrow(/level 2 is not valid/);
    } finally {
      await h.stop();
    }
  });
}
