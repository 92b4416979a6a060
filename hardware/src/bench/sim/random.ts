// A small seeded PRNG (mulberry32) so a bench with a seed replays the same walks and faults.

export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [lo, hi]. */
export function uniform(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * random();
}
