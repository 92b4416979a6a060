import { describe, expect, it } from 'vitest';
import { measureHotPathAlloc } from './support/hot-path-alloc.ts';

// The hot-path rule: from received bytes to the relay write, no per-event objects beyond
// what signature verification itself needs. Measured in bytes (not time), so load does not matter.
describe('rt hot path allocation', () => {
  it('allocates per frame only what the Ed25519 verify allocates, plus at most a few boxed numbers', async () => {
    const r = await measureHotPathAlloc({ chunk: 500, chunks: 16, warmup: 8000 });
    // The frames really went the whole way: relays switched, replays rejected, nothing dropped.
    expect(r.relayWrites).toBeGreaterThan(0.8 * r.frames * 0.8);
    expect(r.rejectedReplay).toBeGreaterThan(0);
    expect(r.eventsDropped).toBe(0);
    // The method sees allocations: node:crypto's verify allocates a few hundred bytes per call.
    expect(r.verifyBytesPerEvent).toBeGreaterThan(100);
    // What rt adds: fractional numbers V8 boxes (a clock reading is one, 16 bytes). Any object per
    // frame (a decoded-frame record, an input or event object, a vehicle string) is more than this.
    expect(r.rtBytesPerEvent).toBeLessThanOrEqual(64);
  }, 60_000);
});
