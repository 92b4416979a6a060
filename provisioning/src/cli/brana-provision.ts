// brana-provision: the technician's CLI. Errors are one line with the fix, never a stack trace;
// exit codes: 0 ok, 1 failed (server, wiring, I/O), 2 bad usage or input.
import { Command, CommanderError } from 'commander';
import { ProvisionError } from '../errors.ts';
import { registerClaim } from './claim-command.ts';
import { registerLabel } from './label-command.ts';
import { registerSdCard } from './sd-card-command.ts';
import { registerVerify } from './verify-command.ts';

export const PROGRAM = 'brana-provision';

function fail(err: unknown): never {
  if (err instanceof ProvisionError) {
    process.stderr.write(`${PROGRAM}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const e = err as { code?: string; message?: string };
  process.stderr.write(`${PROGRAM}: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}\n`);
  process.exit(1);
}

const program = new Command(PROGRAM)
  .description('Brána technician CLI: claim tokens, SD-card boot files, on-site wiring check, labels')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`${PROGRAM}: ${s.replace(/^error: /, '')}`) });

registerClaim(program);
registerSdCard(program);
registerVerify(program);
registerLabel(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  fail(err);
}
