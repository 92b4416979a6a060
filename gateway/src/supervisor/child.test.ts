import { getPriority } from 'node:os';
import { RealClock } from '@brana/firmware';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChildExit, SupervisedChild } from './child.ts';

let child: SupervisedChild | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
});

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const idle = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };

describe('SupervisedChild', () => {
  it('restarts after kill -9 with backoff, reports each exit, and runs at the lower priority it was given', async () => {
    const exits: ChildExit[] = [];
    const starts: number[] = [];
    child = new SupervisedChild({
      label: 'test',
      clock: new RealClock(),
      backoff: { minMs: 50, maxMs: 400 },
      niceness: 7,
      onStart: (pid) => starts.push(pid),
      onExit: (e) => exits.push(e),
    });
    await child.start(() => idle);
    await until(() => starts.length === 1);
    expect(getPriority(starts[0]!) - getPriority()).toBe(7);

    process.kill(starts[0]!, 'SIGKILL');
    await until(() => starts.length === 2);
    expect(exits[0]).toMatchObject({ signal: 'SIGKILL', restartInMs: 50, restarts: 0 });
    process.kill(starts[1]!, 'SIGKILL');
    await until(() => starts.length === 3);
    // A crash right after a start doubles the delay.
    expect(exits[1]).toMatchObject({ signal: 'SIGKILL', restartInMs: 100, restarts: 1 });
    expect(child.status()).toMatchObject({ state: 'running', restarts: 2, lastExit: 'killed by SIGKILL' });
    expect(child.takeExits()).toBe(2);
    expect(child.takeExits()).toBe(0);
  });

  it('stop ends the process and leaves it stopped; the command is asked again at each start', async () => {
    let asked = 0;
    child = new SupervisedChild({ label: 'test', clock: new RealClock(), backoff: { minMs: 20 } });
    await child.start(() => {
      asked++;
      return idle;
    });
    const pid = child.status().pid!;
    await child.stop();
    expect(child.status()).toMatchObject({ state: 'stopped', pid: undefined });
    expect(() => process.kill(pid, 0)).toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(child.status().state).toBe('stopped');
    expect(asked).toBe(1);
    expect(child.takeExits()).toBe(0);
  });
});
