// `npm start`: a whole simulated region out of the box (see `npm start -- --help`).
// Parses the options, brings the region up, shows the live view, and stops everything on Ctrl-C.
import { CommanderError } from 'commander';
import { describeStartFailure } from './start/errors.ts';
import { parseStartOptions, type StartOptions, usageExitCode } from './start/options.ts';
import { type RunningRegion, startRegion } from './start/region.ts';
import type { RegionSnapshot } from './start/snapshot.ts';
import { formatRate, renderView } from './start/view.ts';

function fail(err: unknown): never {
  if (process.env.BRANA_DEBUG) console.error(err);
  process.stderr.write(`npm start: ${describeStartFailure(err)}\n`);
  process.exit(1);
}

function summary(s: RegionSnapshot): string {
  const online = s.gateways.filter((g) => g.state === 'online').length;
  const rejected = Object.values(s.rejections).reduce((a, b) => a + b, 0);
  return (
    `gateways ${online}/${s.gateways.length} online, readings ${formatRate(s.readingsPerS)}/s ` +
    `(${s.readingsTotal} total), preemptions ${s.preemptions.length}, rejected ${rejected}`
  );
}

async function main(): Promise<void> {
  let options: StartOptions;
  try {
    options = parseStartOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CommanderError) process.exit(usageExitCode(err));
    fail(err);
  }
  const live = options.view && process.stdout.isTTY === true;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  let region: RunningRegion | undefined;
  let starting: Promise<RunningRegion> | undefined;
  const abort = new AbortController();
  let stopping = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (ticker) clearInterval(ticker);
    if (!live) log(`${signal}: stopping`);
    else process.stdout.write(`\n${signal}: stopping the region…\n`);
    abort.abort();
    // Ctrl-C while starting: startRegion stops what it started and rejects.
    const started = await starting?.catch(() => undefined);
    await (region ?? started)?.stop();
    process.stdout.write('stopped; the next npm start continues with the same data\n');
    process.exit(0);
  };
  // Ctrl-C while starting stops what has started so far.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  process.stdout.write(`npm start: bringing up the simulated region (data in ${options.data})\n`);
  try {
    starting = startRegion(
      { ...options, signal: abort.signal },
      {
        notice: (line) => {
          // Parts going down one after another on Ctrl-C are expected, not news.
          if (!live && !stopping) log(line);
        },
        firstAdmin: (username, password, url) => {
          process.stdout.write(
            `\n  First admin of the fleet server at ${url}\n` +
              `    username: ${username}\n    one-time password: ${password}\n` +
              '  It is shown this once only and stored nowhere in clear: note it now.\n\n',
          );
        },
      },
    );
    region = await starting;
  } catch (err) {
    if (stopping) return;
    fail(err);
  }
  if (stopping) return;
  const r = region;
  if (!live) {
    const s = r.snapshot();
    log(`fleet server: ${s.apiUrl ?? '(not running)'}`);
    log(`console: ${s.consoleUrl ?? '(not available yet)'}`);
    log('region is up; Ctrl-C stops it');
    ticker = setInterval(() => log(summary(r.snapshot())), 15_000);
    return;
  }
  let drawn = 0;
  const draw = () => {
    const width = process.stdout.columns ?? 100;
    const rows = process.stdout.rows ?? 40;
    const lines = renderView(r.snapshot(), { width, color: true }).slice(0, Math.max(5, rows - 1));
    const up = drawn > 0 ? `\u001b[${drawn}F` : '';
    process.stdout.write(`${up}\u001b[J${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  draw();
  ticker = setInterval(draw, 1000);
}

await main();
