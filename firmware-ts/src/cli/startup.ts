// What both firmware processes do before they run: load the device catalogue and the gateway
// config (one line per error with path and fix, exit 2), open the GPIO backend, and end on a
// failure with one line and the right exit code instead of a stack trace.
import { type Catalogue, connectWires, loadCatalogue } from '@brana/hardware';
import { type GatewayConfig, loadGatewayConfigFile } from '../config/index.ts';
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

/** The device catalogue and the validated gateway config, or an ExitError listing every problem. */
export async function loadCatalogueAndConfig(
  configFile: string,
): Promise<{ catalogue: Catalogue; config: GatewayConfig }> {
  let catalogue: Catalogue;
  try {
    catalogue = loadCatalogue();
  } catch (err) {
    throw new ExitError(`device catalogue is invalid: ${(err as Error).message}`, 1);
  }
  const result = await loadGatewayConfigFile(configFile, { knownProfiles: new Set(catalogue.keys()) });
  if (!result.ok) {
    const lines = result.errors.map(
      (e) => `${configFile}: ${e.path || '(document)'}: ${e.message}. Fix: ${e.fix}`,
    );
    throw new ExitError(
      `config rejected (${result.errors.length} error${result.errors.length > 1 ? 's' : ''})\n${lines.join('\n')}`,
      2,
    );
  }
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
