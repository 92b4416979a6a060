// Config apply end to end: the agent in-process, the firmware as supervised stand-in processes
// speaking the real IPC protocol, a fleet server on the real wire schemas pushing signed documents.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEd25519KeyPair, signDocument } from '@brana/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/agent/index.ts';
import type { ConfigValidator } from '../src/apply/index.ts';
import { enrol } from '../src/fleet/index.ts';
import { type FakeFleet, startFakeFleet } from '../test/fake-fleet.ts';

const standIn = join(import.meta.dirname, '../test/firmware-stand-in.ts');
let dir: string;
let fleet: FakeFleet;
let gw: Gateway;

// The firmware schema's first rule, enough to exercise path-level refusals here.
const validate: ConfigValidator = (c) => {
  const name = (c as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.length > 0
    ? { ok: true }
    : {
        ok: false,
        errors: [{ path: 'name', message: 'expected a non-empty string', fix: 'add name: "<gateway name>"' }],
      };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-apply-'));
  fleet = await startFakeFleet();
  await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
  const cmd = (source: string) => ({
    command: process.execPath,
    args: ['--import', 'tsx', standIn, source],
    env: { STAND_IN_RATE: '50' },
  });
  gw = await startGateway({
    dataDir: dir,
    firmware: { supervise: true, rt: cmd('rt'), fieldbus: cmd('fieldbus') },
    localApiPort: 0,
    trialS: 2,
    validateConfig: validate,
    upload: { tickMs: 20, reconnectMinMs: 50, reconnectMaxMs: 200 },
    log: () => {},
  });
});
afterAll(async () => {
  await gw?.close();
  await fleet?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const reportsFor = (version: number) =>
  fleet.applyReports.filter((r) => r.version === version).map((r) => r.state);
const active = () => JSON.parse(readFileSync(join(dir, 'config/active.json'), 'utf8')) as { name: string };

describe('config apply', () => {
  it('a good config is staged, trialled and committed; the firmware runs it', async () => {
    await until(() => gw.link?.stats().state === 'online');
    fleet.pushDesired(fleet.setDesired({ name: 'school-main-board' }, 1));
    await until(() => reportsFor(1).includes('applied'));
    expect(reportsFor(1)).toEqual(['staged', 'trial', 'applied']);
    expect(gw.applier.status()).toMatchObject({ state: 'committed', running: { version: 1 } });
    expect(active().name).toBe('school-main-board');
    expect(gw.supervisor?.status().map((p) => p.state)).toEqual(['running', 'running']);
    // Reconcile: the next hello reports what runs.
  });

  it('a config whose trial fails (firmware crashes at start) rolls back by itself', async () => {
    fleet.pushDesired(fleet.setDesired({ name: 'crash-on-start' }, 2));
    await until(() => reportsFor(2).includes('rolledBack'));
    expect(reportsFor(2)).toEqual(['staged', 'trial', 'rolledBack']);
    const failed = fleet.applyReports.find((r) => r.version === 2 && r.state === 'rolledBack');
    expect(failed?.detail).toMatch(/trial failed: .*(exited|did not connect)/);
    expect(gw.applier.status()).toMatchObject({
      state: 'rolledBack',
      running: { version: 1 },
      refused: { version: 2 },
    });
    expect(active().name).toBe('school-main-board');
    await until(() => gw.supervisor?.status().every((p) => p.state === 'running') ?? false);
  });

  it('a config whose rt self-test fails rolls back', async () => {
    fleet.pushDesired(fleet.setDesired({ name: 'selftest-fails' }, 3));
    await until(() => reportsFor(3).includes('rolledBack'));
    const r = fleet.applyReports.find((x) => x.version === 3 && x.state === 'rolledBack');
    expect(r?.detail).toContain('rt sent preemption.fault');
    expect(active().name).toBe('school-main-board');
  });

  it('a bad signature or a bad hash is refused and the running config is untouched', async () => {
    const forged = signDocument(
      { version: 4, config: { name: 'evil' } },
      generateEd25519KeyPair().privateKey,
    );
    fleet.pushDesired(forged);
    await until(() => reportsFor(4).includes('failed'));
    expect(reportsFor(4)).toEqual(['failed']);
    expect(fleet.applyReports.find((x) => x.version === 4)?.errors?.[0]).toMatchObject({ path: 'signature' });

    const tampered = fleet.setDesired({ name: 'fine' }, 5);
    fleet.pushDesired({ ...tampered, config: { name: 'tampered' } });
    await until(() => reportsFor(5).includes('failed'));
    expect(fleet.applyReports.find((x) => x.version === 5)?.errors?.[0]).toMatchObject({ path: 'hash' });
    expect(gw.applier.status().running).toMatchObject({ version: 1 });
    expect(active().name).toBe('school-main-board');
  });

  it('a config that fails validation is refused with its path-level errors', async () => {
    fleet.pushDesired(fleet.setDesired({ name: '' }, 6));
    await until(() => reportsFor(6).includes('failed'));
    expect(fleet.applyReports.find((x) => x.version === 6)?.errors).toEqual([
      { path: 'name', message: 'expected a non-empty string', fix: 'add name: "<gateway name>"' },
    ]);
    expect(gw.applier.status().running).toMatchObject({ version: 1 });
  });

  it('the local API shows status, journal and config; readings flowed into the journal', async () => {
    const headers = { authorization: `Bearer ${gw.localApi.issueToken('test', ['read'])}` };
    const status = (await (await fetch(`${gw.localApiUrl}/api/status`, { headers })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ agentVersion: '0.1.0', config: { running: { version: 1 } } });
    const journal = (await (await fetch(`${gw.localApiUrl}/api/journal`, { headers })).json()) as {
      committed: number;
    };
    expect(journal.committed).toBeGreaterThan(0);
    const missing = await fetch(`${gw.localApiUrl}/api/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not-found' });
  });
});
