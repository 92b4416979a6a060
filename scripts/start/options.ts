// The `npm start` command line: options, defaults, environment, and one-line usage errors.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export interface StartOptions {
  /** Data folder (fleet database, gateway identities and journals, bench ptys). */
  data: string;
  host: string;
  /** Fleet server API and console port; 0 picks a free one. */
  port: number;
  /** First gateway's local API port; the others take the next ones. 0 picks free ports. */
  gatewayPort: number;
  /** How much faster than real time the simulated meters run (96: a day of quarter-hours in 15 min). */
  speed: number;
  buildings: number;
  ambulanceEveryS: number;
  busEveryS: number;
  forgedEveryS: number;
  /** How often someone pulls a care home's SOS cord, seconds. */
  sosEveryS: number;
  /** Live view in the terminal; off: one log line per notable thing. */
  view: boolean;
  seed: number;
  /** Seconds a gateway runs a new config on trial before it commits it. */
  trialS: number;
}

export const DEFAULT_DATA_DIR = '.brana';
export const MAX_BUILDINGS = 12;

function numberIn(flag: string, min: number, max: number, integer: boolean, example: number) {
  return (value: string): number => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (!integer || Number.isInteger(n));
    if (!ok || n < min || n > max) {
      throw new InvalidArgumentError(
        `${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${value}". Fix: e.g. ${flag} ${example}`,
      );
    }
    return n;
  };
}

export function buildStartProgram(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('npm start --')
    .description(
      'Bring up a whole simulated region: the fleet server on SQLite, bench rigs for an intersection and ' +
        'public buildings, one gateway per site with its rt and fieldbus processes, simulated ambulances ' +
        'and buses, and a live view. Ctrl-C stops everything; the next start continues with the same data.',
    )
    .addOption(
      new Option('-d, --data <dir>', 'data folder (fleet database, gateway identities, journals)')
        .env('BRANA_DATA')
        .default(env.BRANA_DATA ?? DEFAULT_DATA_DIR),
    )
    .option('--host <address>', 'address the fleet server and the gateways listen on', '127.0.0.1')
    .option(
      '-p, --port <n>',
      'fleet server port: API and web console (0 = any free port)',
      numberIn('--port', 0, 65535, true, 8081),
      8080,
    )
    .option(
      '--gateway-port <n>',
      "first gateway's local API port; the next gateways take the next ports (0 = any free ports)",
      numberIn('--gateway-port', 0, 65535, true, 8180),
      8180,
    )
    .option(
      '-s, --speed <x>',
      'speed of simulated time for the meters (1 = real time; 96 = a day of quarter-hours in 15 minutes)',
      numberIn('--speed', 0.1, 10_000, false, 96),
      1,
    )
    .option(
      '-b, --buildings <n>',
      `number of public buildings (school, care home, school, …), 0-${MAX_BUILDINGS}`,
      numberIn('--buildings', 0, MAX_BUILDINGS, true, 2),
      2,
    )
    .option(
      '--ambulance-every <s>',
      'an ambulance run about this often, seconds',
      numberIn('--ambulance-every', 5, 86_400, false, 60),
      60,
    )
    .option(
      '--bus-every <s>',
      'a bus asks for priority about this often, seconds',
      numberIn('--bus-every', 5, 86_400, false, 150),
      150,
    )
    .option(
      '--forged-every <s>',
      'a forged request (must be rejected) about this often, seconds',
      numberIn('--forged-every', 5, 86_400, false, 200),
      200,
    )
    .option(
      '--sos-every <s>',
      "someone pulls a care home's SOS cord about this often, seconds (the alarm relay lights)",
      numberIn('--sos-every', 5, 86_400, false, 180),
      180,
    )
    .option(
      '--seed <n>',
      'seed of the random ambulance and bus runs',
      numberIn('--seed', 0, 2 ** 31 - 1, true, 7),
      7,
    )
    .option(
      '--trial <s>',
      'seconds a gateway runs a new config on trial (firmware up, no faults) before it commits',
      numberIn('--trial', 1, 600, false, 10),
      10,
    )
    .option(
      '--no-view',
      'print one line per event instead of the live view (default when output is not a terminal)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npm start                                  # ./.brana, fleet server on http://127.0.0.1:8080\n' +
        '  npm start -- --speed 96 --buildings 4      # meters run a day in 15 minutes, four buildings\n' +
        '  BRANA_DATA=/tmp/region npm start -- -p 9090 # another data folder and port\n',
    )
    .showHelpAfterError('(npm start -- --help lists the options)')
    .allowExcessArguments(false)
    .exitOverride();
}

/** Parses user arguments (without node and script). Throws CommanderError on bad usage or help. */
export function parseStartOptions(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  output?: { writeOut(s: string): void; writeErr(s: string): void },
): StartOptions {
  const program = buildStartProgram(env);
  if (output) program.configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr });
  program.parse([...args], { from: 'user' });
  const o = program.opts<{
    data: string;
    host: string;
    port: number;
    gatewayPort: number;
    speed: number;
    buildings: number;
    ambulanceEvery: number;
    busEvery: number;
    forgedEvery: number;
    sosEvery: number;
    view: boolean;
    seed: number;
    trial: number;
  }>();
  if (o.data.trim() === '') {
    const message = 'error: --data is empty. Fix: name a folder, e.g. --data ./.brana';
    (output?.writeErr ?? ((m: string) => process.stderr.write(m)))(`${message}\n`);
    throw new CommanderError(2, 'brana-start.badOption', message);
  }
  return {
    data: o.data,
    host: o.host,
    port: o.port,
    gatewayPort: o.gatewayPort,
    speed: o.speed,
    buildings: o.buildings,
    ambulanceEveryS: o.ambulanceEvery,
    busEveryS: o.busEvery,
    forgedEveryS: o.forgedEvery,
    sosEveryS: o.sosEvery,
    view: o.view,
    seed: o.seed,
    trialS: o.trial,
  };
}

/** Exit code for a commander outcome: 0 after --help, 2 for any usage error. */
export function usageExitCode(err: CommanderError): number {
  return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
}
