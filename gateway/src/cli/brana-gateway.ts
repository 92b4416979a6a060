// brana-gateway: run the agent, enrol the gateway. Errors are one line with the fix; exit codes
// 0 ok, 1 failed at run time, 2 bad usage or config.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { startGateway } from '../agent/index.ts';
import { GatewayConfigError, GatewayError } from '../errors.ts';
import { AGENT_VERSION, enrol } from '../fleet/index.ts';
import { EDITOR_USER, loadCredentialsKey, nodeRedPaths } from '../node-red/index.ts';
import { loadAgentConfig } from './agent-config.ts';

function fail(err: unknown): never {
  if (err instanceof GatewayConfigError) {
    console.error(`brana-gateway: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof GatewayError) {
    console.error(`brana-gateway: ${err.message}`);
    process.exit(1);
  }
  const e = err as { code?: string; message?: string };
  console.error(`brana-gateway: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`);
  process.exit(1);
}

const program = new Command('brana-gateway')
  .description('Brána gateway agent: journal, fleet link, config apply and rollback, local API')
  .version(AGENT_VERSION)
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`brana-gateway: ${s.replace(/^error: /, '')}`) });

program
  .command('run')
  .description('run the agent until SIGTERM or SIGINT')
  .requiredOption('--config <file>', 'agent config (YAML): dataDir, server, localApi, firmware commands')
  .action(async (opts: { config: string }) => {
    const options = loadAgentConfig(opts.config);
    const gw = await startGateway(options);
    const s = gw.status();
    console.error(
      `brana-gateway: running as ${s.gatewayId ?? '(not enrolled)'}, local API ${gw.localApiUrl}, firmware socket ${gw.socketPath}`,
    );
    const stop = () => {
      gw.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('enrol')
  .description('enrol this gateway with a single-use claim token (the key is made here and never leaves)')
  .requiredOption('--server <url>', 'fleet server base URL')
  .requiredOption('--token <claim>', 'claim token from the fleet operator')
  .option('--data-dir <dir>', 'data directory (default: dataDir of --config, else /var/lib/brana)')
  .option('--config <file>', 'agent config to take dataDir from')
  .action(async (opts: { server: string; token: string; dataDir?: string; config?: string }) => {
    const e = await enrol({ dataDir: dataDirOf(opts), serverUrl: opts.server, claimToken: opts.token });
    console.log(`enrolled as ${e.gatewayId}; server key pinned (${e.serverPublicKey.slice(0, 12)}…)`);
  });

const nodeRed = program
  .command('node-red')
  .description("Node-RED on this gateway: the editor's credential, the key flow credentials are sealed to");

/** The data directory from --data-dir or --config (default /var/lib/brana). */
function dataDirOf(opts: { dataDir?: string; config?: string }): string {
  return opts.dataDir ?? (opts.config ? loadAgentConfig(opts.config).dataDir : '/var/lib/brana');
}

nodeRed
  .command('credentials')
  .description(
    'print the editor user and password the agent generated (run on the gateway, as the agent user)',
  )
  .option('--data-dir <dir>', 'data directory (default: dataDir of --config, else /var/lib/brana)')
  .option('--config <file>', 'agent config to take dataDir from')
  .action((opts: { dataDir?: string; config?: string }) => {
    const file = nodeRedPaths(dataDirOf(opts)).adminPasswordFile;
    let password: string;
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new GatewayConfigError(
        file,
        `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        'run this as the agent user, after the agent started Node-RED once',
      );
    }
    console.log(`user: ${EDITOR_USER}\npassword: ${password}`);
  });

nodeRed
  .command('public-key')
  .description("print this gateway's X25519 key that the fleet seals flow credentials to (made on first use)")
  .option('--data-dir <dir>', 'data directory (default: dataDir of --config, else /var/lib/brana)')
  .option('--config <file>', 'agent config to take dataDir from')
  .action((opts: { dataDir?: string; config?: string }) => {
    const key = loadCredentialsKey(nodeRedPaths(dataDirOf(opts)).credentialsKeyFile);
    console.log(`publicKey: ${key.publicKey}\nkeyId: ${key.keyId}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  fail(err);
}
