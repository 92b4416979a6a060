// brana-firmware: the gateway's firmware processes. Each subcommand is built by a function in
// its own file (rt-command.ts, …) and added here; errors print one line with the fix.
import { Command } from 'commander';
import { fieldbusCommand } from './fieldbus-command.ts';
import { rtCommand } from './rt-command.ts';

export function buildProgram(): Command {
  const program = new Command('brana-firmware')
    .description('Brána gateway firmware: the real-time loop (rt) and the fieldbus poller')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(rtCommand());
  program.addCommand(fieldbusCommand());
  // Subcommands built elsewhere do not inherit these; usage errors exit 2 through the handler below.
  for (const c of program.commands) c.exitOverride().showHelpAfterError();
  return program;
}

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  const e = err as { code?: string; exitCode?: number; message?: string };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    // commander already printed help or the usage error.
    process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  }
  process.stderr.write(`brana-firmware: ${e.message ?? String(err)}\n`);
  process.exit(1);
}
