// brana-fleet: run the fleet server and do the few things that must work without it running
// (the first admin, claim tokens for a technician in the field).
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createUser } from '../auth/index.ts';
import { DEFAULT_CONSOLE_BASE } from '../console/index.ts';
import { type Logger, ROLES, type Role } from '../core/index.ts';
import { DEFAULT_DB_PATH, openFleetDatabase } from '../db/index.ts';
import { createClaimToken, importClaimTokensCsv } from '../enrolment/index.ts';
import { FleetError } from '../errors.ts';
import { startFleetServer } from '../server.ts';

const dbOption = [
  '--db <file>',
  `SQLite database file (env BRANA_FLEET_DB, default ${DEFAULT_DB_PATH})`,
] as const;
const dbPath = (opt: string | undefined) => opt ?? process.env.BRANA_FLEET_DB ?? DEFAULT_DB_PATH;

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

const jsonLogger: Logger = {
  info: (msg, fields) => console.log(JSON.stringify({ level: 'info', msg, ...fields })),
  warn: (msg, fields) => console.error(JSON.stringify({ level: 'warn', msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: 'error', msg, ...fields })),
};

const program = new Command('brana-fleet')
  .description('Brána fleet server: enrolment, signed config rollouts, telemetry')
  .showHelpAfterError('(run brana-fleet --help for usage)')
  .exitOverride();

program
  .command('serve')
  .description('run the fleet server (HTTP API, gateway WebSocket) until SIGINT/SIGTERM')
  .option('--port <port>', 'TCP port (0: any free port)', parsePort, 8080)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option(...dbOption)
  .action(async (opts: { port: number; host: string; db?: string }) => {
    const server = await startFleetServer({
      dbPath: dbPath(opts.db),
      port: opts.port,
      host: opts.host,
      log: jsonLogger,
      console: true,
    });
    console.log(`brana-fleet listening on ${server.url} (database ${server.fleet.database.path})`);
    console.log(`web console: ${server.url}${DEFAULT_CONSOLE_BASE}/`);
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

const user = program.command('user').description('operator accounts');
user
  .command('create <username>')
  .description('create a user and print a one-time password (there is no default password)')
  .option('--admin', 'give the user the admin role')
  .option('--role <role>', `role: ${ROLES.join(', ')}`, (v: string) => {
    if (!(ROLES as readonly string[]).includes(v))
      throw new InvalidArgumentError(`use one of ${ROLES.join(', ')}`);
    return v as Role;
  })
  .option(...dbOption)
  .action(async (username: string, opts: { admin?: boolean; role?: Role; db?: string }) => {
    const role: Role = opts.admin ? 'admin' : (opts.role ?? 'viewer');
    const database = openFleetDatabase(dbPath(opts.db));
    try {
      const u = await createUser(database.db, { username, role }, 'cli');
      console.log(`created ${role} ${u.username}`);
      console.log(`one-time password: ${u.password}`);
      console.log('it is shown only now; store it in a password manager');
    } finally {
      database.close();
    }
  });

const claim = program.command('claim').description('claim tokens for enrolling gateways');
claim
  .command('create')
  .description('create one single-use claim token and print it')
  .option('--name <name>', 'name the gateway will get')
  .option('--site <siteId>', 'site the gateway is assigned to')
  .option('--group <groupId>', 'group the gateway joins')
  .option(
    '--hours <hours>',
    'validity in hours',
    (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('hours must be a positive number');
      return n;
    },
    168,
  )
  .option(...dbOption)
  .action((opts: { name?: string; site?: string; group?: string; hours: number; db?: string }) => {
    const database = openFleetDatabase(dbPath(opts.db));
    try {
      const t = createClaimToken(
        database.db,
        { gatewayName: opts.name, siteId: opts.site, groupId: opts.group, expiresInS: opts.hours * 3600 },
        'cli',
      );
      console.log(t.token);
      console.error(`expires ${new Date(t.expiresAt).toISOString()}`);
    } finally {
      database.close();
    }
  });
claim
  .command('import <csvFile>')
  .description('bulk pre-registration: one token per CSV row (columns name,site,group,tags,expiresInDays)')
  .option(...dbOption)
  .action(async (csvFile: string, opts: { db?: string }) => {
    const { readFile } = await import('node:fs/promises');
    let text: string;
    try {
      text = await readFile(csvFile, 'utf8');
    } catch (e) {
      throw new FleetError('file', 2, `cannot read ${csvFile}: ${(e as Error).message}`, false);
    }
    const database = openFleetDatabase(dbPath(opts.db));
    try {
      for (const t of importClaimTokensCsv(database.db, text, 'cli'))
        console.log(`${t.gatewayName ?? ''},${t.token}`);
    } finally {
      database.close();
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof FleetError) {
    console.error(`brana-fleet: ${err.message}`);
    process.exit(err.status === 2 ? 2 : 1);
  }
  console.error(`brana-fleet: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
}
