// From the laptop to an enrolled gateway, against the real fleet server: `claim` creates tokens
// through the API (one by one and from a CSV), `sd-card` writes the boot files, and the agent
// config inside user-data is started with the gateway's own CLI (`brana-gateway run`), which
// loads it with its agent-config schema and enrols with the claim token.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createApiToken, type FleetServer, startFleetServer } from '@brana/fleet-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FleetApiError, InvalidInputError } from '../src/errors.ts';
import { createClaims, FleetClient, importClaimsCsv } from '../src/fleet/index.ts';
import { provision, start, until } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-provision-enrol-'));
let fleet: FleetServer;
let token: string;
let viewerToken: string;

async function api(path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(fleet.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { id: string };
}

beforeAll(async () => {
  fleet = await startFleetServer({
    dbPath: join(dir, 'fleet.db'),
    port: 0,
    log: { info() {}, warn() {}, error() {} },
  });
  const admin = await fleet.createAdmin('alena');
  token = createApiToken(fleet.fleet.database.db, admin.id, 'laptop', null, 'test').token;
  const viewer = await fleet.createUser('vera', 'viewer');
  viewerToken = createApiToken(fleet.fleet.database.db, viewer.id, 'laptop', null, 'test').token;
  await api('/api/v1/sites', { name: 'ZŠ Komenského', kind: 'building' });
  await api('/api/v1/groups', { name: 'schools' });
});
afterAll(async () => {
  await fleet?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('brana-provision claim and sd-card against the fleet server', () => {
  it('creates claim tokens by site and group name, prints them, and reports server errors in one line', async () => {
    const env = { BRANA_FLEET_URL: fleet.url, BRANA_FLEET_TOKEN: token };
    const csv = join(dir, 'gateways.csv');
    writeFileSync(
      csv,
      'name,site,group,tags,expiresInDays\nkom-a,ZŠ Komenského,schools,floor-1;boiler,3\n"kom, b",ZŠ Komenského,,,\n',
    );
    // Three technicians' laptops at once (each CLI start costs seconds of tsx on this machine).
    const [r, refused, fromCsv] = await Promise.all([
      provision(
        [
          'claim',
          '--site',
          'zš komenského',
          '--group',
          'schools',
          '--count',
          '2',
          '--name',
          'zs',
          '--expires',
          '48h',
          '--json',
        ],
        env,
      ),
      provision(['claim', '--site', 'ZŠ Komenského', '--server', fleet.url, '--token', 'brt_wrong'], {}),
      provision(['claim', '--csv', csv], env),
    ]);
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    const csvLines = fromCsv.stdout.trim().split('\n');
    expect(csvLines).toHaveLength(2);
    expect(csvLines[0]).toMatch(/^brc_\S{32} {2}name kom-a, site \S+, group \S+, expires /);
    expect(csvLines[1]).toMatch(/name kom, b/);
    expect(fromCsv.stderr).toContain('2 gateways; sending to the server');
    expect(r.stderr).toContain('created 2/2 claim tokens');
    expect(r.code).toBe(0);
    const claims = JSON.parse(r.stdout) as {
      token: string;
      gatewayName: string;
      siteId: string;
      groupId: string;
      expiresAt: number;
    }[];
    expect(claims.map((c) => c.gatewayName)).toEqual(['zs-01', 'zs-02']);
    for (const c of claims) {
      expect(c.token).toMatch(/^brc_[A-Za-z0-9_-]{32}$/);
      expect(c.expiresAt - Date.now()).toBeGreaterThan(47 * 3600_000);
      expect(c.expiresAt - Date.now()).toBeLessThanOrEqual(48 * 3600_000);
    }
    const listed = (await (
      await fetch(`${fleet.url}/api/v1/claim-tokens`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { gatewayName: string; state: string }[];
    expect(listed.filter((c) => c.gatewayName?.startsWith('zs-') && c.state === 'open')).toHaveLength(2);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^brana-provision: GET \/api\/v1\/sites: the API token was refused\. Fix: pass a valid API token/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    // The same client in process: an unknown site (a usage error, exit 2) and a role too low.
    const client = new FleetClient({ baseUrl: fleet.url, token });
    const unknown = await createClaims(client, { site: 'Nemocnice', count: 1, expiresS: 3600 }).catch(
      (e: unknown) => e,
    );
    expect(unknown).toBeInstanceOf(InvalidInputError);
    expect((unknown as Error).message).toBe(
      '--site: no site "Nemocnice" on the server (known: "ZŠ Komenského"). Fix: give an existing site name or id; a fleet operator creates sites in the console',
    );
    const viewer = new FleetClient({ baseUrl: fleet.url, token: viewerToken });
    const low = await createClaims(viewer, { site: 'ZŠ Komenského', count: 1, expiresS: 3600 }).catch(
      (e: unknown) => e,
    );
    expect(low).toBeInstanceOf(FleetApiError);
    expect((low as Error).message).toMatch(
      /POST \/api\/v1\/claim-tokens: 403 .*Fix: ask an admin to give the token's user the technician role/,
    );
  }, 60_000);

  it('refuses a CSV with a bad row as a whole, and checks the columns before sending', async () => {
    const client = new FleetClient({ baseUrl: fleet.url, token });
    const bad = await importClaimsCsv(client, 'name,site\nzs-c,ZŠ Komenského\nzs-d,Nowhere\n', 'g.csv').catch(
      (e: unknown) => e,
    );
    expect((bad as FleetApiError).status).toBe(400);
    expect((bad as Error).message).toMatch(/400 CSV line 3, column site: no site "Nowhere"/);
    const claims = (await (
      await fetch(`${fleet.url}/api/v1/claim-tokens`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { gatewayName: string }[];
    expect(claims.some((c) => c.gatewayName === 'zs-c')).toBe(false); // all or none
    await expect(importClaimsCsv(client, 'name,room\nzs-e,1\n', 'g.csv')).rejects.toThrow(
      'g.csv:1: column 2 "room" is not known',
    );
  }, 60_000);

  it('writes boot files whose agent config the gateway agent loads and enrols with', async () => {
    const created = fleet.createClaimToken({ gatewayName: 'zs-komenskeho-01' });
    const boot = join(dir, 'bootfs');
    const gwDir = join(dir, 'gw');
    writeFileSync(join(dir, 'key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK8x technik@laptop\n');
    await import('node:fs').then((fs) => fs.mkdirSync(boot));
    writeFileSync(join(boot, 'cmdline.txt'), 'console=serial0,115200 root=PARTUUID=x\n');
    const r = await provision([
      'sd-card',
      boot,
      '--server',
      fleet.url,
      '--claim',
      created.token,
      '--hostname',
      'zs-komenskeho-01',
      '--board',
      'cm4',
      '--ssh-key',
      join(dir, 'key.pub'),
      '--source',
      'https://git.example.org/brana.git#v0.1.0',
    ]);
    expect(r.stderr + r.stdout).not.toContain(created.token);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `zs-komenskeho-01 (raspberry-pi-cm4) will enrol with ${fleet.url} using claim ${created.token.slice(0, 8)}…`,
    );

    // The agent config exactly as the first boot writes it to /etc/brana/agent.yaml, with the data
    // directory and local API port moved so it can run here.
    const userData = parse(readFileSync(join(boot, 'user-data'), 'utf8')) as {
      write_files: { path: string; content: string }[];
    };
    const agentYaml = userData.write_files.find((f) => f.path === '/etc/brana/agent.yaml')!.content;
    const agent = parse(agentYaml);
    expect(agent.claimToken).toBe(created.token);
    const local = { ...agent, dataDir: gwDir, localApi: { ...agent.localApi, port: 0 } };
    const configFile = join(dir, 'agent.yaml');
    writeFileSync(configFile, stringify(local));
    const gatewayBin = join(
      dirname(createRequire(import.meta.url).resolve('@brana/gateway')),
      '..',
      'bin',
      'brana-gateway.mjs',
    );
    const gw = start(gatewayBin, ['run', '--config', configFile]);
    try {
      await until(
        'the agent enrolling',
        () => /running as gw_/.test(gw.err()),
        30_000,
        () => gw.err(),
      );
      const id = /running as (gw_\S+?),/.exec(gw.err())![1]!;
      const res = await fetch(`${fleet.url}/api/v1/gateways/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await res.json()) as { name: string }).name).toBe('zs-komenskeho-01');
      const enrolment = JSON.parse(readFileSync(join(gwDir, 'identity', 'enrolment.json'), 'utf8'));
      expect(enrolment.gatewayId).toBe(id);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.done;
    }
  }, 60_000);
});
