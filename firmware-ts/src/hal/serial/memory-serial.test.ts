import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../../errors.ts';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { describeSerialContract } from '../contracts/serial.contract.ts';
import { createMemorySerialPair } from './memory-serial.ts';

describeSerialContract('memory pair', async () => {
  const [port, peer] = createMemorySerialPair();
  return { port, peer, dispose: async () => {} };
});

describe('memory serial pair', () => {
  it('paced by a clock, bytes take their wire time: 8E1 at 9600 Bd is 11 bits per character', async () => {
    const clock = new VirtualClock();
    const [a, b] = createMemorySerialPair({ pacedBy: clock, settings: { baudRate: 9600, parity: 'even' } });
    await a.open();
    await b.open();
    const arrivals: { atMs: number; n: number }[] = [];
    b.onData((bytes) => arrivals.push({ atMs: clock.monotonicMs(), n: bytes.length }));
    await a.write(new Uint8Array(8));
    await a.write(new Uint8Array(4)); // queued behind the first chunk on the line
    clock.advance(100);
    const charMs = 11_000 / 9600;
    expect(arrivals).toHaveLength(2);
    expect(arrivals[0]!.atMs).toBeCloseTo(8 * charMs, 6);
    expect(arrivals[1]!.atMs).toBeCloseTo(12 * charMs, 6);
  });

  it('refuses bad settings, naming the field', () => {
    expect(() => createMemorySerialPair({ settings: { baudRate: 0 } })).toThrow(HalConfigError);
    expect(() => createMemorySerialPair({ settings: { baudRate: 0 } })).toThrow(
      /memory:a\.baudRate.*Fix: use one of/,
    );
    expect(() => createMemorySerialPair({ settings: { parity: 'mark' as never } })).toThrow(/parity/);
  });
});
