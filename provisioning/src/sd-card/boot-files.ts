// The files brana-provision writes onto the boot partition (FAT, "bootfs") of a freshly flashed
// Raspberry Pi OS card: cloud-init NoCloud `user-data`, `network-config` and `meta-data`. Pure: the
// same input gives the same files, so tests can read them back without a card.
import { stringify } from 'yaml';
import {
  AGENT_CONFIG_PATH,
  FIRSTBOOT_PATH,
  FIRSTBOOT_SCRIPT,
  GATEWAY_UNITS,
  INSTALL_ENV_PATH,
  POLKIT_RULE,
  POLKIT_RULE_PATH,
} from './firstboot.ts';
import type { BoardName, InstallSource, Wifi } from './inputs.ts';

export interface BootInput {
  serverUrl: string;
  claimToken: string;
  hostname: string;
  board: BoardName;
  /** Board profile id from @brana/hardware (raspberry-pi-5, …), recorded for the technician. */
  boardProfileId: string;
  user: string;
  sshKeys: string[];
  wifi?: Wifi;
  timezone: string;
  source: InstallSource;
  /** cloud-init runs its per-instance modules again only for a new instance id. */
  instanceId: string;
  /** ISO time the card was written (a comment only). */
  writtenAt: string;
}

export interface BootFile {
  name: 'user-data' | 'network-config' | 'meta-data';
  content: string;
  /** 0600 for files that hold a secret (the claim token, the Wi-Fi passphrase). */
  mode: number;
  secret: boolean;
}

/** The agent config (gateway/README.md, `brana-gateway run --config`) for a Pi under systemd. */
export function agentConfig(input: Pick<BootInput, 'serverUrl' | 'claimToken'>) {
  return {
    dataDir: '/var/lib/brana',
    server: input.serverUrl,
    claimToken: input.claimToken,
    localApi: { port: 8181, host: '127.0.0.1' },
    journal: { quotaMB: 512 },
    trialS: 30,
    firmware: {
      // On a Pi systemd runs the firmware (gateway/systemd); the agent restarts it for a config trial.
      supervise: false,
      restartCommand: {
        command: '/usr/bin/systemctl',
        args: ['restart', 'brana-firmware-rt.service', 'brana-firmware-fieldbus.service'],
      },
      expectSources: ['rt', 'fieldbus'] as ('rt' | 'fieldbus')[],
    },
  };
}

export function agentConfigYaml(
  input: Pick<BootInput, 'serverUrl' | 'claimToken' | 'hostname' | 'writtenAt'>,
): string {
  return (
    `# ${AGENT_CONFIG_PATH} of ${input.hostname}, written by brana-provision sd-card at ${input.writtenAt}.\n` +
    '# claimToken is single use: the agent enrols with it on its first start and pins the server key.\n' +
    stringify(agentConfig(input), { lineWidth: 0 })
  );
}

function installEnv(source: InstallSource): string {
  // Values are checked by parseInstallSource (https URL, no quotes or shell characters).
  const lines = [
    `BRANA_SOURCE_KIND=${source.kind}`,
    `BRANA_SOURCE_URL='${source.url}'`,
    `BRANA_SOURCE_REF='${source.ref ?? ''}'`,
    `BRANA_SOURCE_SHA256='${source.sha256 ?? ''}'`,
  ];
  return `${lines.join('\n')}\n`;
}

export function userData(input: BootInput): string {
  const [shortName] = input.hostname.split('.');
  const doc = {
    hostname: shortName,
    ...(input.hostname.includes('.') ? { fqdn: input.hostname } : {}),
    manage_etc_hosts: true,
    timezone: input.timezone,
    users: [
      {
        name: input.user,
        groups: 'users,adm,dialout,gpio,netdev,video,plugdev,sudo',
        shell: '/bin/bash',
        // No password at all: sign-in only with the SSH key(s) given, and sudo without a password.
        lock_passwd: true,
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        ...(input.sshKeys.length > 0 ? { ssh_authorized_keys: input.sshKeys } : {}),
      },
    ],
    ssh_pwauth: false,
    write_files: [
      { path: AGENT_CONFIG_PATH, permissions: '0600', owner: 'root:root', content: agentConfigYaml(input) },
      { path: INSTALL_ENV_PATH, permissions: '0644', owner: 'root:root', content: installEnv(input.source) },
      { path: FIRSTBOOT_PATH, permissions: '0700', owner: 'root:root', content: FIRSTBOOT_SCRIPT },
      { path: POLKIT_RULE_PATH, permissions: '0644', owner: 'root:root', content: POLKIT_RULE },
      {
        path: '/etc/brana/board',
        permissions: '0644',
        owner: 'root:root',
        content: `${input.board} ${input.boardProfileId}\n`,
      },
    ],
    runcmd: [
      ...(input.sshKeys.length > 0 ? [['systemctl', 'enable', '--now', 'ssh']] : []),
      [FIRSTBOOT_PATH],
    ],
  };
  return (
    '#cloud-config\n' +
    `# Brána gateway ${input.hostname} (${input.board}), written by brana-provision sd-card at ${input.writtenAt}.\n` +
    `# First boot: install Node.js and Brána (${input.source.url}), enable ${GATEWAY_UNITS.join(', ')},\n` +
    `# enrol with the fleet server ${input.serverUrl} using the claim token in ${AGENT_CONFIG_PATH}.\n` +
    '# This file holds a single-use secret: keep the card safe until the gateway has enrolled.\n' +
    stringify(doc, { lineWidth: 0 })
  );
}

export function networkConfig(input: Pick<BootInput, 'wifi'>): string {
  const doc = {
    network: {
      version: 2,
      ethernets: { eth0: { dhcp4: true, optional: true } },
      ...(input.wifi
        ? {
            wifis: {
              wlan0: {
                dhcp4: true,
                optional: true,
                'regulatory-domain': input.wifi.country,
                'access-points': { [input.wifi.ssid]: { password: input.wifi.psk } },
              },
            },
          }
        : {}),
    },
  };
  return `# Written by brana-provision sd-card: DHCP on Ethernet${input.wifi ? ' and Wi-Fi' : ''}.\n${stringify(doc, { lineWidth: 0 })}`;
}

export function metaData(input: Pick<BootInput, 'instanceId' | 'hostname'>): string {
  return stringify({ 'instance-id': input.instanceId, 'local-hostname': input.hostname.split('.')[0] });
}

export function bootFiles(input: BootInput): BootFile[] {
  return [
    { name: 'user-data', content: userData(input), mode: 0o600, secret: true },
    {
      name: 'network-config',
      content: networkConfig(input),
      mode: input.wifi ? 0o600 : 0o644,
      secret: input.wifi !== undefined,
    },
    { name: 'meta-data', content: metaData(input), mode: 0o644, secret: false },
  ];
}
