import { describeClockContract } from '../contracts/clock.contract.ts';
import { RealClock } from './real-clock.ts';
import { VirtualClock } from './virtual-clock.ts';

describeClockContract('RealClock', () => {
  const clock = new RealClock();
  return {
    clock,
    // Real time on a shared 2-core machine: allow generous slack beyond the clock-time limit.
    async waitUntil(done, limitMs) {
      const deadline = performance.now() + limitMs + 2000;
      while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      return done();
    },
  };
});

describeClockContract('VirtualClock', () => {
  const clock = new VirtualClock();
  return { clock, waitUntil: (done, limitMs) => clock.runUntilAsync(done, limitMs) };
});
