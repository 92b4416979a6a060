// `brana-provision sd-card`: boot files for a gateway's first start. Secrets are never printed.
import type { Command } from 'commander';
import { writeSdCard } from '../sd-card/index.ts';
import { redact } from '../validate/index.ts';
import { serverFlag } from './server-flag.ts';

interface SdCardFlags {
  server?: string;
  claim: string;
  hostname: string;
  board: string;
  sshKey?: string;
  wifiSsid?: string;
  wifiPskFile?: string;
  wifiCountry: string;
  user: string;
  timezone: string;
  source?: string;
  sourceSha256?: string;
  allowHttp?: boolean;
  force?: boolean;
  anyDir?: boolean;
  json?: boolean;
}

export function registerSdCard(program: Command): void {
  program
    .command('sd-card')
    .description(
      'write cloud-init boot files (user-data, network-config, meta-data) onto a flashed Raspberry Pi OS card',
    )
    .argument('<boot-dir>', 'the mounted boot partition of the card (bootfs)')
    .option('--server <url>', 'fleet server base URL the gateway enrols with (default: $BRANA_FLEET_URL)')
    .requiredOption('--claim <token>', 'single-use claim token (brc_…) from brana-provision claim')
    .requiredOption('--hostname <name>', 'host name of the gateway (RFC 1123), e.g. zs-komenskeho-01')
    .option('--board <board>', 'pi4b, pi5 or cm4', 'pi4b')
    .option('--ssh-key <file>', 'SSH public key(s) for the login user (a .pub or authorized_keys file)')
    .option('--wifi-ssid <ssid>', 'Wi-Fi network name (Ethernet DHCP is always on)')
    .option('--wifi-psk-file <file>', 'file whose first line is the Wi-Fi passphrase')
    .option('--wifi-country <cc>', 'Wi-Fi regulatory country', 'CZ')
    .option('--user <name>', 'login user (no password; SSH key only)', 'technik')
    .option('--timezone <tz>', 'time zone', 'Europe/Prague')
    .option(
      '--source <url>',
      'where the first boot gets Brána: git URL[#tag] or https .tar.gz (default: $BRANA_SOURCE)',
    )
    .option('--source-sha256 <hex>', 'SHA-256 of the release .tar.gz')
    .option('--allow-http', 'allow a plain http:// fleet server that is not on this machine')
    .option('--force', 'overwrite user-data, network-config and meta-data if they exist')
    .option('--any-dir', 'write into a directory without config.txt/cmdline.txt')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
The card boots Raspberry Pi OS with cloud-init (images based on Debian 13 "trixie"): it sets the host
name, adds the SSH key, installs Node.js and Brána, enables brana.target (gateway/systemd) and the
agent enrols with the claim token. user-data holds the token and is written 0600.
Example:
  brana-provision sd-card /media/$USER/bootfs --server https://fleet.example.org --claim brc_… \\
    --hostname zs-komenskeho-01 --board pi5 --ssh-key ~/.ssh/id_ed25519.pub \\
    --source https://git.example.org/brana.git#v0.1.0`,
    )
    .action((bootDir: string, o: SdCardFlags) => {
      const server = serverFlag(o.server);
      const source = o.source ?? process.env.BRANA_SOURCE;
      const progress = o.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const result = writeSdCard(
        {
          bootDir,
          server,
          claim: o.claim,
          hostname: o.hostname,
          board: o.board,
          ...(o.sshKey !== undefined ? { sshKeyFile: o.sshKey } : {}),
          ...(o.wifiSsid !== undefined ? { wifiSsid: o.wifiSsid } : {}),
          ...(o.wifiPskFile !== undefined ? { wifiPskFile: o.wifiPskFile } : {}),
          wifiCountry: o.wifiCountry,
          user: o.user,
          timezone: o.timezone,
          ...(source !== undefined ? { source } : {}),
          ...(o.sourceSha256 !== undefined ? { sourceSha256: o.sourceSha256 } : {}),
          allowHttp: o.allowHttp ?? false,
          force: o.force ?? false,
          anyDir: o.anyDir ?? false,
        },
        progress,
      );
      const summary = {
        hostname: result.hostname,
        board: result.board,
        server: result.agentConfig.server,
        claim: redact(result.agentConfig.claimToken),
        files: result.files,
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        process.stdout.write(
          `${result.hostname} (${result.board}) will enrol with ${summary.server} using claim ${summary.claim}. Eject the card and boot the gateway.\n`,
        );
      }
    });
}
