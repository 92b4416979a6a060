// `brana-provision label`: an SVG label for the gateway's enclosure.
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FileExistsError, InvalidInputError } from '../errors.ts';
import { checkGatewayId, renderLabel } from '../label/index.ts';
import { parseClaimToken, parseHostname, parseServerUrl } from '../validate/index.ts';
import { serverFlag } from './server-flag.ts';

interface LabelFlags {
  gateway: string;
  site: string;
  server?: string;
  hostname?: string;
  claim?: string;
  out: string;
  force?: boolean;
}

export function registerLabel(program: Command): void {
  program
    .command('label')
    .description("write an SVG label (62 × 29 mm) with a QR code of the gateway's console page")
    .requiredOption('--gateway <id>', 'gateway id (gw_…)')
    .requiredOption('--site <site>', 'site name printed on the label')
    .requiredOption('--out <file.svg>', 'where to write the SVG')
    .option('--server <url>', 'fleet server base URL (default: $BRANA_FLEET_URL)')
    .option('--hostname <name>', 'host name printed on the label')
    .option('--claim <token>', 'claim token: only its first characters are printed, never the whole token')
    .option('--force', 'overwrite --out if it exists')
    .addHelpText(
      'after',
      '\nExample:\n  brana-provision label --gateway gw_8f3kq… --site "ZŠ Komenského" --server https://fleet.example.org --out label.svg',
    )
    .action((o: LabelFlags) => {
      const server = serverFlag(o.server);
      const site = o.site.trim();
      if (site === '' || site.length > 80)
        throw new InvalidInputError(
          '--site',
          'must be 1 to 80 characters',
          'give the site name as it should be printed',
        );
      const label = renderLabel({
        serverUrl: parseServerUrl(server, '--server', { allowHttp: true }),
        gatewayId: checkGatewayId(o.gateway),
        site,
        ...(o.hostname !== undefined ? { hostname: parseHostname(o.hostname) } : {}),
        ...(o.claim !== undefined ? { claimToken: parseClaimToken(o.claim) } : {}),
      });
      if (existsSync(o.out) && !o.force) throw new FileExistsError(o.out);
      try {
        writeFileSync(o.out, label.svg);
      } catch (err) {
        throw new InvalidInputError(
          '--out',
          `cannot write ${o.out} (${(err as NodeJS.ErrnoException).code})`,
          'give a path in a writable directory',
        );
      }
      process.stdout.write(`wrote ${o.out}: QR code of ${label.url}\n`);
    });
}
