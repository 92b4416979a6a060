// `brana-firmware rt` refuses a bad config at start: one line per problem with the path and the fix,
// exit code 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { testPreemptionDoc } from '../test/support/rt-fixtures.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'brana-firmware.mjs');
const dir = mkdtempSync(join(tmpdir(), 'brana-rt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(doc: unknown) {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  const r = spawnSync(process.execPath, [BIN, 'rt', '--config', file, '--no-hw-watchdog'], {
    encoding: 'utf8',
    // Starting tsx takes seconds when both cores are busy; a killed run would read as a wrong exit.
    timeout: 45_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('brana-firmware rt with a bad config', () => {
  it('rejects overlapping outputs, a missing conflict entry and a malformed key, each with path and fix', () => {
    const p = testPreemptionDoc();
    p.approaches[1]!.output = p.approaches[0]!.output;
    delete (p.conflicts as Record<string, string[]>).west;
    p.vehicleKeys[0]!.publicKey = 'not-a-key';
    const r = run({ name: 'bad', preemption: p });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/preemption\.approaches\[1\]\.output: .*Fix: /);
    expect(r.stderr).toMatch(/preemption\.conflicts\.west: .*Fix: add conflicts\.west/);
    expect(r.stderr).toMatch(/preemption\.vehicleKeys\[0\]\.publicKey: malformed.*Fix: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('rejects a config with nothing for rt to run, and a bench backend without a socket', () => {
    // Since the alarm unit runs in rt too, a config needs a preemption section, alarms or relays.
    expect(run({ name: 'x' })).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/nothing for rt to run \(no preemption, alarms or relays\)\. Fix:/),
    });
    const r = run({ name: 'x', preemption: testPreemptionDoc() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/hardware\.gpio\.benchSocket: missing.*Fix:/);
  }, 100_000);
});
