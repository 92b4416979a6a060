// `brana-provision claim`: claim tokens from the fleet server for gateways about to be installed.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../errors.ts';
import { type CreatedClaim, createClaims, FleetClient, importClaimsCsv } from '../fleet/index.ts';
import { durationFlag, parseServerUrl } from '../validate/index.ts';
import { serverFlag } from './server-flag.ts';

interface ClaimOptions {
  server?: string;
  token?: string;
  site?: string;
  group?: string;
  count: string;
  expires: string;
  name?: string;
  tag: string[];
  csv?: string;
  json?: boolean;
  allowHttp?: boolean;
}

const MAX_COUNT = 500;

export function fleetClientFrom(o: { server?: string; token?: string; allowHttp?: boolean }): FleetClient {
  const server = serverFlag(o.server);
  const token = o.token ?? process.env.BRANA_FLEET_TOKEN;
  if (!token) {
    throw new InvalidInputError(
      '--token',
      'missing',
      'pass --token <API token> or set BRANA_FLEET_TOKEN (an API token, brt_…, of a technician)',
    );
  }
  return new FleetClient({
    baseUrl: parseServerUrl(server, '--server', { allowHttp: o.allowHttp ?? false }),
    token,
  });
}

function printClaims(claims: CreatedClaim[], siteNames: Map<string, string>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(claims, null, 2)}\n`);
    return;
  }
  for (const c of claims) {
    const where = [
      c.gatewayName ? `name ${c.gatewayName}` : undefined,
      c.siteId ? `site ${siteNames.get(c.siteId) ?? c.siteId}` : undefined,
      c.groupId ? `group ${c.groupId}` : undefined,
      `expires ${new Date(c.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    ].filter(Boolean);
    process.stdout.write(`${c.token}  ${where.join(', ')}\n`);
  }
}

export function registerClaim(program: Command): void {
  program
    .command('claim')
    .description(
      'create single-use claim tokens on the fleet server (one per gateway), or import a CSV of gateways',
    )
    .option('--server <url>', 'fleet server base URL (default: $BRANA_FLEET_URL)')
    .option('--token <api-token>', 'API token of a technician (default: $BRANA_FLEET_TOKEN)')
    .option('--site <site>', 'site name or id the gateways belong to (required without --csv)')
    .option('--group <group>', 'group name or id')
    .option('--count <n>', `how many tokens (1-${MAX_COUNT})`, '1')
    .option('--expires <duration>', 'validity, e.g. 7d, 48h, 2w (at most 365d)', '7d')
    .option('--name <gateway-name>', 'gateway name (with --count > 1: name-01, name-02, …)')
    .option(
      '--tag <tag>',
      'tag for the gateways (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--csv <file>',
      'bulk pre-registration: columns name,site,group,tags,expiresInDays; one token per line',
    )
    .option('--json', 'print the created tokens as JSON')
    .option('--allow-http', 'allow plain http:// to a server that is not on this machine')
    .addHelpText(
      'after',
      `
Tokens are printed once, one per line (stdout); progress goes to stderr.
Examples:
  brana-provision claim --server https://fleet.example.org --token brt_… --site "ZŠ Komenského" --group schools
  BRANA_FLEET_URL=https://fleet.example.org BRANA_FLEET_TOKEN=brt_… brana-provision claim --site Nemocnice --count 4 --expires 48h
  brana-provision claim --csv gateways.csv --json > tokens.json`,
    )
    .action(async (o: ClaimOptions) => {
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      const client = fleetClientFrom(o);
      if (o.csv) {
        const clash =
          (['site', 'group', 'name'] as const).find((k) => o[k] !== undefined) ??
          (o.count !== '1' ? 'count' : undefined);
        if (clash) {
          throw new InvalidInputError(
            `--${clash}`,
            'cannot be combined with --csv',
            'put site, group and name in the CSV columns, one line per gateway',
          );
        }
        let text: string;
        try {
          text = readFileSync(o.csv, 'utf8');
        } catch (err) {
          throw new InvalidInputError(
            '--csv',
            `cannot read ${o.csv} (${(err as NodeJS.ErrnoException).code})`,
            'give the path of the CSV file',
          );
        }
        const claims = await importClaimsCsv(client, text, o.csv, progress);
        printClaims(claims, new Map(), o.json ?? false);
        return;
      }
      if (!o.site)
        throw new InvalidInputError('--site', 'missing', 'pass --site <site name or id> (or --csv <file>)');
      const count = Number(o.count);
      if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
        throw new InvalidInputError(
          '--count',
          `"${o.count}" is not a count`,
          `use a whole number from 1 to ${MAX_COUNT}`,
        );
      }
      const expiresS = durationFlag(o.expires, '--expires', 365 * 86_400, 3600);
      const batch = await createClaims(
        client,
        {
          site: o.site,
          ...(o.group !== undefined ? { group: o.group } : {}),
          count,
          expiresS,
          ...(o.name !== undefined ? { name: o.name } : {}),
          tags: o.tag,
        },
        progress,
      );
      printClaims(batch.claims, new Map([[batch.site.id, batch.site.name]]), o.json ?? false);
    });
}
