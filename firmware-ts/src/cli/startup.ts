// What both firmware processes do before they run: load the device catalogue and the gateway
// config (one line per error with path and fix, exit 2), open the GPIO backend, and end on a
// failure with one line and the right exit code instead of a stack trace.
import { resolve } from 'node:path';
import {
  type Catalogue,
  checkCatalogue,
  connectWires,
  DEFAULT_PROFILES_DIR,
  loadCatalogue,
  ProfileError,
} from '@brana/hardware';
import { Option } from 'commander';
import {
  type ConfigIssue,
  type GatewayConfig,
  loadGatewayConfigFile,
  readProfileDirs,
} from '../config/index.ts';
import { type Clock, type GpioBackend, openSysfsGpio, WireGpio } from '../hal/index.ts';

/** A start-up failure the CLI reports as one line; 2 for a config or usage error, 1 otherwise. */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Runs a subcommand; any failure ends the process with `<prefix>: <message>` and its exit code. */
export async function runOrExit(prefix: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    const code = err instanceof ExitError ? err.exitCode : 1;
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    process.exit(code);
  }
}

/** `--profiles <dir>`, repeatable: a site's own device profiles on top of the built-in catalogue. */
export function profilesOption(): Option {
  return new Option(
    '--profiles <dir>',
    'extra device profile directory, read on top of the built-in catalogue (repeat for several; the config may list more in profileDirs)',
  )
    .argParser((value: string, previous: string[] = []) => [...previous, value])
    .default([]);
}

/**
 * The device catalogue (built in, plus `extraDirs` and the config's `profileDirs`) and the
 * validated gateway config, or an ExitError listing every problem with its file, path and fix.
 */
export async function loadCatalogueAndConfig(
  configFile: string,
  extraDirs: readonly string[] = [],
): Promise<{ catalogue: Catalogue; config: GatewayConfig }> {
  const rejected = (errors: readonly ConfigIssue[]) =>
    new ExitError(
      `config rejected (${errors.length} error${errors.length > 1 ? 's' : ''})\n${errors
        .map((e) => `${configFile}: ${e.path || '(document)'}: ${e.message}. Fix: ${e.fix}`)
        .join('\n')}`,
      2,
    );
  const dirs = [...extraDirs.map((d) => resolve(d)), ...(await readProfileDirs(configFile))];
  let catalogue: Catalogue;
  try {
    catalogue = loadCatalogue(DEFAULT_PROFILES_DIR, dirs);
  } catch (err) {
    if (err instanceof ProfileError) {
      const { errors } = checkCatalogue(DEFAULT_PROFILES_DIR, dirs);
      throw new ExitError(
        `device profiles rejected (${errors.length} file${errors.length > 1 ? 's' : ''})\n${errors.map((e) => e.describeAll()).join('\n')}`,
        dirs.length > 0 ? 2 : 1,
      );
    }
    throw new ExitError(`device catalogue cannot be read: ${(err as Error).message}`, 1);
  }
  const result = await loadGatewayConfigFile(configFile, { knownProfiles: new Set(catalogue.keys()) });
  if (!result.ok) throw rejected(result.errors);
  return { catalogue, config: result.config };
}

/** The config's GPIO backend: the bench wire bus (benchSocket overrides the config) or sysfs. */
export async function openGpio(
  config: GatewayConfig,
  configFile: string,
  benchSocket: string | undefined,
  clock: Clock,
): Promise<GpioBackend> {
  const g = config.hardware.gpio;
  if (g.backend === 'bench') {
    const socket = benchSocket ?? g.benchSocket;
    if (socket === undefined) {
      throw new ExitError(
        `${configFile}: hardware.gpio.benchSocket: missing for the bench backend. Fix: set it to the wire socket brana-bench printed, or pass --bench-socket`,
        2,
      );
    }
    try {
      return new WireGpio(await connectWires(socket), { clock, kind: 'bench', ownsBus: true });
    } catch (err) {
      throw new ExitError((err as Error).message, 1);
    }
  }
  if (g.backend === 'sysfs') return openSysfsGpio({ clock });
  throw new ExitError(
    `${configFile}: hardware.gpio.backend: "memory" exists only inside tests. Fix: use "bench" (with the bench rig) or "sysfs" (on a Pi)`,
    2,
  );
}
