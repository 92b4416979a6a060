// The gateway's systemd units as systemd reads them, and the Node-RED unit against what the agent
// writes: the files it hands over as credentials, the launcher it starts, the priorities it gets.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER, nodeRedPaths } from '../src/node-red/index.ts';

const DIR = join(import.meta.dirname, '..', 'systemd');
const REPO = join(import.meta.dirname, '..', '..');

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}
const unit = (name: string) => directives(readFileSync(join(DIR, name), 'utf8'));

describe('gateway systemd units', () => {
  it.each(readdirSync(DIR).filter((f) => /\.(service|target)$/.test(f)))(
    '%s has only keys systemd knows, each in its section',
    (file) => {
      const r = spawnSync('systemd-analyze', ['verify', join(DIR, file)], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.error).toBeUndefined();
      const problems = `${r.stdout}\n${r.stderr}`
        .split('\n')
        .filter((l) => /Unknown (key|section)|Failed to parse|Invalid|bad-setting/i.test(l));
      expect(problems).toEqual([]);
    },
  );

  it('brana-node-red gets the files the agent writes as credentials and runs the launcher of this repo', () => {
    const u = unit('brana-node-red.service');
    const paths = nodeRedPaths('/var/lib/brana');
    const creds = new Map(u.get('LoadCredential')!.map((c) => c.split(':') as [string, string]));
    expect([...creds.keys()].sort()).toEqual([
      'admin.json',
      'credential-secret',
      'local-api.token',
      'settings.json',
    ]);
    // The launcher reads its three files from BRANA_NODE_RED_HOST_DIR: the credentials directory here.
    for (const [name, from] of creds) expect(from).toBe(join(paths.hostDir, name));
    expect(creds.get('settings.json')).toBe(paths.settingsFile);
    expect(creds.get('admin.json')).toBe(paths.adminFile);
    expect(creds.get('credential-secret')).toBe(paths.credentialSecretFile);
    expect(creds.get('local-api.token')).toBe(paths.localApiTokenFile);
    const env = u.get('Environment')!;
    expect(env).toContain('BRANA_NODE_RED_HOST_DIR=%d');
    expect(env).toContain('BRANA_LOCAL_API_TOKEN_FILE=%d/local-api.token');
    expect(u.get('EnvironmentFile')).toEqual([join(paths.hostDir, 'launch.env')]);
    expect(u.get('ConditionPathExists')).toEqual([paths.settingsFile]);
    expect(u.get('ReadWritePaths')).toEqual([paths.userDir]);
    expect(`/var/lib/${u.get('StateDirectory')![0]}`).toBe(paths.userDir);
    const exec = u.get('ExecStart')![0]!.split(/\s+/);
    // A release copies gateway/src/node-red/runtime to dist/gateway/runtime (release/src/build/contents.ts).
    expect(exec[1]).toBe('/opt/brana/current/dist/gateway/runtime/launch.cjs');
    expect(relative(REPO, LAUNCHER)).toBe('gateway/src/node-red/runtime/launch.cjs');
    expect(existsSync(LAUNCHER)).toBe(true);
  });

  it('brana-node-red yields to the fieldbus poller and stays off the rt core', () => {
    const nodeRed = unit('brana-node-red.service');
    const fieldbus = unit('brana-firmware-fieldbus.service');
    const rt = unit('brana-firmware-rt.service');
    expect(Number(nodeRed.get('Nice')![0])).toBeGreaterThan(Number(fieldbus.get('Nice')?.[0] ?? 0));
    expect(Number(nodeRed.get('CPUWeight')![0])).toBeLessThan(Number(fieldbus.get('CPUWeight')?.[0] ?? 100));
    expect(nodeRed.get('CPUAffinity')).not.toEqual(rt.get('CPUAffinity'));
    expect(Number(nodeRed.get('OOMScoreAdjust')![0])).toBeGreaterThan(0);
    expect(nodeRed.get('User')).not.toEqual(unit('brana-gateway.service').get('User'));
    expect(unit('brana.target').get('Wants')![0]).toContain('brana-node-red.service');
  });
});
