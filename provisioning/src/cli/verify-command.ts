// `brana-provision verify`: the wiring check on site or on the bench, as a table or JSON.
import type { Command } from 'commander';
import { GatewayConfigInvalidError, InvalidInputError } from '../errors.ts';
import { formatReport, verifyWiring } from '../verify/index.ts';

interface VerifyFlags {
  config: string;
  benchSocket?: string;
  outputs?: boolean;
  pulseMs: string;
  settleMs?: string;
  modbusTimeoutMs?: string;
  json?: boolean;
  profiles: string[];
}

function msFlag(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidInputError(
      flag,
      `"${value}" is not a time in ms`,
      `use a whole number from 1 to ${max}`,
    );
  return n;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      "check a gateway's wiring: config validity, alarm inputs, outputs and readbacks, Modbus devices",
    )
    .requiredOption('--config <gateway.yaml>', 'the gateway config (YAML or JSON)')
    .option(
      '--bench-socket <path>',
      'bench wire bus socket (brana-bench up prints it); default: sysfs GPIO of this Pi',
    )
    .option(
      '--outputs',
      'also pulse every relay and approach output, one at a time (switches real contacts!)',
    )
    .option('--pulse-ms <ms>', 'how long each output is on', '500')
    .option(
      '--settle-ms <ms>',
      'how long a readback may take to follow (default: preemption.timing.readbackSettleMs)',
    )
    .option('--modbus-timeout-ms <ms>', "per device (default: the profile's bus.timeoutMs)")
    .option('--json', 'print the report as JSON')
    .option(
      '--profiles <dir>',
      'extra device profile directory, on top of the built-in catalogue (repeat for several)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
Stop the gateway first (sudo systemctl stop brana.target): the check opens the same lines and ports.
Outputs are pulsed only with --outputs, one at a time (never two approaches together), and every
output is switched off at the end, also on an error or Ctrl-C. Exit 0: all OK; 1: problems found.
Examples:
  brana-provision verify --config /var/lib/brana/config/active.json --outputs
  brana-provision verify --config gateway.yaml --bench-socket .brana/bench/care-home/wires.sock --json`,
    )
    .action(async (o: VerifyFlags) => {
      const controller = new AbortController();
      const onSignal = () => {
        process.stderr.write('interrupted: switching every output off\n');
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const report = await verifyWiring({
          configFile: o.config,
          profileDirs: o.profiles,
          ...(o.benchSocket !== undefined ? { benchSocket: o.benchSocket } : {}),
          outputs: o.outputs ?? false,
          pulseMs: msFlag(o.pulseMs, '--pulse-ms', 10_000)!,
          ...(o.settleMs !== undefined ? { settleMs: msFlag(o.settleMs, '--settle-ms', 10_000)! } : {}),
          ...(o.modbusTimeoutMs !== undefined
            ? { modbusTimeoutMs: msFlag(o.modbusTimeoutMs, '--modbus-timeout-ms', 60_000)! }
            : {}),
          signal: controller.signal,
          progress: o.json ? () => {} : (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        // Interrupted counts as failed (1): the check did not finish.
        if (!report.ok) process.exitCode = 1;
      } catch (err) {
        if (err instanceof GatewayConfigInvalidError) {
          for (const e of err.issues)
            process.stderr.write(`${err.file}: ${e.path || '(document)'}: ${e.message}. Fix: ${e.fix}\n`);
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
