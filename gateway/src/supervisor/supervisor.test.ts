import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock } from '@brana/firmware';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from './supervisor.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-supervisor-'));
const config = join(dir, 'gw.yaml');
writeFileSync(config, 'name: test\n');
// A stand-in firmware process: prints its config path on stdout and a line on stderr, then idles.
const script = `console.log('config ' + process.argv[1]); console.error('started ' + process.env.BRANA_AGENT_SOCKET); setInterval(() => {}, 1000);`;

let supervisor: Supervisor | undefined;
afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
});

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor', () => {
  it('hands each line of a firmware process’s stdout and stderr to `output`, named by process', async () => {
    const lines: string[] = [];
    supervisor = new Supervisor({
      processes: { fieldbus: { command: process.execPath, args: ['-e', script, '{config}'] } },
      socketPath: join(dir, 'agent.sock'),
      clock: new RealClock(),
      output: (name, line) => lines.push(`${name}: ${line}`),
    });
    await supervisor.restart(config);
    await until(() => lines.length >= 2);
    expect(lines.sort()).toEqual([
      `fieldbus: config ${config}`,
      `fieldbus: started ${join(dir, 'agent.sock')}`,
    ]);
    expect(supervisor.status()[0]?.state).toBe('running');
  });
});
