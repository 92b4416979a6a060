// `npm run chaos`: the simulated region under a seeded random schedule of faults, then counted
// against what the simulators produced (see `npm run chaos -- --help` and scripts/chaos/README.md).
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { jsonLine, renderTable } from './chaos/report.ts';
import { runChaos } from './chaos/run.ts';

function numberIn(flag: string, min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (
      value.trim() === '' ||
      !Number.isFinite(n) ||
      (integer && !Number.isInteger(n)) ||
      n < min ||
      n > max
    ) {
      throw new InvalidArgumentError(
        `${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${value}"`,
      );
    }
    return n;
  };
}

const program = new Command('npm run chaos --')
  .description(
    'Run the simulated region (fleet server, gateways with their rt and fieldbus processes, bench rigs, ' +
      'vehicles) for a set time under a seeded random schedule of faults: kill -9 of any process, ' +
      'network cuts, resets and stalls between the gateways and the fleet, full data disks, wall-clock ' +
      'steps and floods of the priority inputs. Then count what reached the fleet against what the ' +
      'meters answered, and what the traffic controller saw against the safety rules.',
  )
  .option('-m, --minutes <n>', 'how long the faults run', numberIn('--minutes', 0.5, 600, false), 10)
  .option(
    '--seed <n>',
    'seed of the fault schedule and the traffic (same seed, same schedule)',
    numberIn('--seed', 0, 2 ** 31 - 1, true),
    1,
  )
  .option('--rate <n>', 'mean faults per minute', numberIn('--rate', 0.1, 600, false), 24)
  .option(
    '-b, --buildings <n>',
    'public buildings besides the intersection',
    numberIn('--buildings', 0, 6, true),
    2,
  )
  .option(
    '--flood-per-s <n>',
    'frames per second of a priority-input flood',
    numberIn('--flood-per-s', 1, 50_000, true),
    3000,
  )
  .option(
    '--disk-mb <n>',
    "size of each gateway's data disk (tmpfs), MB",
    numberIn('--disk-mb', 8, 4096, true),
    48,
  )
  .option(
    '--ambulance-every <s>',
    'mean seconds between ambulance runs',
    numberIn('--ambulance-every', 3, 3600, false),
    20,
  )
  .option('--bus-every <s>', 'mean seconds between bus runs', numberIn('--bus-every', 3, 3600, false), 45)
  .option(
    '--emergency-bound <ms>',
    'an emergency request must close its contact within this',
    numberIn('--emergency-bound', 50, 60_000, true),
    1000,
  )
  .option('--data <dir>', 'data folder (default: a new temporary folder, removed afterwards)')
  .option('--keep', 'keep the temporary data folder (logs of every process) afterwards')
  .option('--json', 'also print the result as one JSON line')
  .option('--strict', 'exit 1 when a goal (lost, duplicated, unsafe, unserved emergency = 0) is not met')
  .addHelpText(
    'after',
    '\nExamples:\n' +
      "  npm run chaos -- --minutes 10 --seed 7 --json   # the issue's run: ≥ 200 faults\n" +
      '  npm run chaos -- --minutes 2 --rate 6 --keep    # short, gentle, keep the logs\n' +
      '\nNeeds root for the tmpfs data disks (otherwise disk-full faults are left out) and libfaketime\n' +
      'for the wall-clock steps (apt-get install libfaketime; otherwise left out). Both are said in the result.\n',
  )
  .showHelpAfterError('(npm run chaos -- --help lists the options)')
  .allowExcessArguments(false)
  .exitOverride();

try {
  program.parse(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' ? 0 : 2);
  throw err;
}
const o = program.opts<{
  minutes: number;
  seed: number;
  rate: number;
  buildings: number;
  floodPerS: number;
  diskMb: number;
  ambulanceEvery: number;
  busEvery: number;
  emergencyBound: number;
  data?: string;
  keep?: boolean;
  json?: boolean;
  strict?: boolean;
}>();
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
try {
  const r = await runChaos({
    minutes: o.minutes,
    seed: o.seed,
    rate: o.rate,
    buildings: o.buildings,
    floodPerS: o.floodPerS,
    diskMb: o.diskMb,
    ambulanceEveryS: o.ambulanceEvery,
    busEveryS: o.busEvery,
    emergencyBoundMs: o.emergencyBound,
    ...(o.data ? { data: o.data } : {}),
    keep: o.keep === true,
    log: (line) => process.stderr.write(`${line}\n`),
    signal: abort.signal,
  });
  process.stdout.write(`\nchaos run, ${o.minutes} min, seed ${o.seed}\n${renderTable(r).join('\n')}\n`);
  if (o.keep || o.data) process.stdout.write(`data and logs: ${r.dataDir}\n`);
  if (o.json) process.stdout.write(`${jsonLine(r)}\n`);
  const met = r.lost === 0 && r.duplicated === 0 && r.unsafe === 0 && r.unservedEmergency === 0;
  process.exit(o.strict && !met ? 1 : 0);
} catch (err) {
  if (process.env.BRANA_DEBUG) console.error(err);
  process.stderr.write(`npm run chaos: ${(err as Error).message}\n`);
  process.exit(1);
}
