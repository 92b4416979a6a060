import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FileExistsError, InvalidInputError } from '../errors.ts';
import { GATEWAY_UNITS } from './firstboot.ts';
import { type SdCardOptions, writeSdCard } from './sd-card.ts';

const CLAIM = `brc_${'A1b2'.repeat(8)}`;
const SSH = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29v technik@laptop';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function bootDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'brana-boot-'));
  dirs.push(d);
  writeFileSync(join(d, 'config.txt'), '[all]\n');
  writeFileSync(join(d, 'key.pub'), `${SSH}\n`);
  writeFileSync(join(d, 'psk'), 'correct horse battery\n');
  return d;
}

function options(d: string, extra: Partial<SdCardOptions> = {}): SdCardOptions {
  return {
    bootDir: d,
    server: 'https://fleet.example.org/',
    claim: CLAIM,
    hostname: 'ZS-Komenskeho-01',
    board: 'pi5',
    sshKeyFile: join(d, 'key.pub'),
    source: 'https://git.example.org/brana.git#v0.1.0',
    now: new Date('2026-12-02T10:00:00Z'),
    ...extra,
  };
}

type WriteFile = { path: string; permissions: string; content: string };

describe('sd-card boot files', () => {
  it('writes user-data, network-config and meta-data that parse as YAML and carry what the first boot needs', () => {
    const d = bootDir();
    const lines: string[] = [];
    const r = writeSdCard(options(d, { wifiSsid: 'Skola', wifiPskFile: join(d, 'psk') }), (l) =>
      lines.push(l),
    );
    expect(r.files.map((f) => f.path)).toEqual(
      ['user-data', 'network-config', 'meta-data'].map((n) => join(d, n)),
    );
    const userDataText = readFileSync(join(d, 'user-data'), 'utf8');
    expect(userDataText.startsWith('#cloud-config\n')).toBe(true);
    const ud = parse(userDataText) as {
      hostname: string;
      users: { name: string; ssh_authorized_keys: string[]; lock_passwd: boolean }[];
      ssh_pwauth: boolean;
      timezone: string;
      write_files: WriteFile[];
      runcmd: string[][];
    };
    expect(ud.hostname).toBe('zs-komenskeho-01');
    expect(ud.timezone).toBe('Europe/Prague');
    expect(ud.ssh_pwauth).toBe(false);
    expect(ud.users[0]).toMatchObject({ name: 'technik', lock_passwd: true, ssh_authorized_keys: [SSH] });
    const files = new Map(ud.write_files.map((f) => [f.path, f]));
    const agent = files.get('/etc/brana/agent.yaml')!;
    expect(agent.permissions).toBe('0600');
    const cfg = parse(agent.content);
    expect(cfg).toMatchObject({
      dataDir: '/var/lib/brana',
      server: 'https://fleet.example.org',
      claimToken: CLAIM,
      firmware: { supervise: false, expectSources: ['rt', 'fieldbus'] },
    });
    expect(r.agentConfig).toEqual(cfg);
    const script = files.get('/usr/local/lib/brana/firstboot.sh')!;
    expect(script.permissions).toBe('0700');
    for (const unit of GATEWAY_UNITS) expect(script.content).toContain(unit);
    expect(script.content).toContain('systemctl enable');
    expect(script.content).toContain('systemctl start brana.target');
    const scrub = /sed -E -i '([^']+)' "\$f"/.exec(script.content);
    expect(scrub).not.toBeNull();
    // The script is valid POSIX shell (dash is /bin/sh on Raspberry Pi OS).
    const syntax = spawnSync('sh', ['-n'], { input: script.content, encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
    // Its token scrub really removes the token from user-data.
    const scrubbed = spawnSync('sed', ['-E', scrub![1]!], { input: userDataText, encoding: 'utf8' });
    expect(scrubbed.stdout).toContain('brc_used-see-etc-brana');
    expect(scrubbed.stdout).not.toContain(CLAIM);
    expect(files.get('/etc/brana/install.env')!.content).toContain("BRANA_SOURCE_REF='v0.1.0'");
    expect(files.get('/etc/brana/board')!.content).toBe('pi5 raspberry-pi-5\n');
    expect(ud.runcmd).toContainEqual(['/usr/local/lib/brana/firstboot.sh']);

    const net = parse(readFileSync(join(d, 'network-config'), 'utf8'));
    expect(net.network.version).toBe(2);
    expect(net.network.ethernets.eth0.dhcp4).toBe(true);
    expect(net.network.wifis.wlan0['access-points'].Skola.password).toBe('correct horse battery');
    expect(net.network.wifis.wlan0['regulatory-domain']).toBe('CZ');
    const meta = parse(readFileSync(join(d, 'meta-data'), 'utf8'));
    expect(meta['local-hostname']).toBe('zs-komenskeho-01');
    expect(meta['instance-id']).toMatch(/^brana-zs-komenskeho-01-/);

    // Files with secrets are 0600; nothing printed carries the token or the passphrase.
    expect(statSync(join(d, 'user-data')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'network-config')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'meta-data')).mode & 0o777).toBe(0o644);
    const printed = lines.join('\n') + JSON.stringify(r.files);
    expect(printed).not.toContain(CLAIM);
    expect(printed).not.toContain('correct horse');
  });

  it('writes Ethernet only without Wi-Fi, and network-config then holds no secret', () => {
    const d = bootDir();
    writeSdCard(options(d, { sshKeyFile: undefined }));
    const net = parse(readFileSync(join(d, 'network-config'), 'utf8'));
    expect(net.network.wifis).toBeUndefined();
    expect(statSync(join(d, 'network-config')).mode & 0o777).toBe(0o644);
    const ud = parse(readFileSync(join(d, 'user-data'), 'utf8'));
    expect(ud.users[0].ssh_authorized_keys).toBeUndefined();
  });

  it('refuses to overwrite without force, and overwrites with it', () => {
    const d = bootDir();
    writeFileSync(join(d, 'meta-data'), 'instance-id: old\n');
    expect(() => writeSdCard(options(d))).toThrow(FileExistsError);
    expect(readFileSync(join(d, 'meta-data'), 'utf8')).toBe('instance-id: old\n');
    expect(() => readFileSync(join(d, 'user-data'))).toThrow(); // nothing written
    writeSdCard(options(d, { force: true }));
    expect(readFileSync(join(d, 'meta-data'), 'utf8')).toContain('brana-zs-komenskeho-01');
  });

  it('validates everything before writing anything', () => {
    const d = bootDir();
    const cases: [Partial<SdCardOptions>, RegExp][] = [
      [{ hostname: 'bad_host' }, /--hostname/],
      [{ server: 'http://fleet.example.org' }, /--server: .*unencrypted/],
      [{ claim: 'brt_notaclaim' }, /--claim/],
      [{ board: 'pi3' }, /--board: "pi3" is not a known board\. Fix: use one of: pi4b, pi5, cm4/],
      [{ wifiSsid: 'x' }, /--wifi-psk-file: Wi-Fi needs both/],
      [{ source: undefined }, /--source: no install source/],
      [{ source: 'http://git.example.org/brana.git' }, /--source: http: is not https/],
      [{ source: 'https://x.org/b.git;rm -rf /' }, /shell characters/],
      [{ user: 'root' }, /--user/],
      [{ sshKeyFile: join(d, 'missing.pub') }, /--ssh-key: cannot read/],
    ];
    for (const [extra, re] of cases) {
      expect(() => writeSdCard(options(d, extra)), re.source).toThrow(re);
    }
    writeFileSync(
      join(d, 'id_ed25519'),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    expect(() => writeSdCard(options(d, { sshKeyFile: join(d, 'id_ed25519') }))).toThrow(
      /PRIVATE key\. Fix: pass the public key \(.*id_ed25519\.pub\)/,
    );
    writeFileSync(join(d, 'short'), 'short\n');
    expect(() => writeSdCard(options(d, { wifiSsid: 'x', wifiPskFile: join(d, 'short') }))).toThrow(
      InvalidInputError,
    );
    expect(() => readFileSync(join(d, 'user-data'))).toThrow();
  });

  it('refuses a directory that is not a boot partition unless told', () => {
    const d = bootDir();
    rmSync(join(d, 'config.txt'));
    expect(() => writeSdCard(options(d))).toThrow(/not a Raspberry Pi boot partition.*--any-dir/);
    writeSdCard(options(d, { anyDir: true }));
    expect(() => writeSdCard(options(join(d, 'nope')))).toThrow(/is not a directory/);
  });
});
