// `brana-provision verify`: the on-site or bench wiring check of a gateway config. Validates the
// config with the firmware's own validator, opens the HAL (sysfs on a Pi, the bench wire bus with
// --bench-socket), then runs the plan.

import { resolve } from 'node:path';
import { createHal, type GatewayConfig, loadGatewayConfigFile, readProfileDirs } from '@brana/firmware';
import { type Catalogue, DEFAULT_PROFILES_DIR, loadCatalogue } from '@brana/hardware';
import { GatewayConfigInvalidError, VerifyError } from '../errors.ts';
import { planVerify } from './plan.ts';
import { type BusConfig, runVerify, type VerifyOptions, type VerifyReport } from './run.ts';

export interface VerifyCommandOptions extends Omit<VerifyOptions, 'settleMs'> {
  configFile: string;
  /** Extra device profile directories (`--profiles`). */
  profileDirs?: readonly string[];
  benchSocket?: string;
  settleMs?: number;
}

export async function loadConfig(
  file: string,
  profileDirs: readonly string[] = [],
): Promise<{ config: GatewayConfig; catalogue: Catalogue }> {
  // The config may add a site's profile directories (relative to its own folder) to the catalogue.
  const catalogue = loadCatalogue(DEFAULT_PROFILES_DIR, [
    ...profileDirs.map((d) => resolve(d)),
    ...(await readProfileDirs(file)),
  ]);
  const r = await loadGatewayConfigFile(file, { knownProfiles: new Set(catalogue.keys()) });
  if (!r.ok) throw new GatewayConfigInvalidError(file, r.errors);
  return { config: r.config, catalogue };
}

export async function verifyWiring(o: VerifyCommandOptions): Promise<VerifyReport> {
  const { config, catalogue } = await loadConfig(o.configFile, o.profileDirs);
  const g = config.hardware.gpio;
  const socket = o.benchSocket ?? (g.backend === 'bench' ? g.benchSocket : undefined);
  if (g.backend === 'memory' && !o.benchSocket) {
    throw new VerifyError(
      `${o.configFile}: hardware.gpio.backend "memory" has no wires to check`,
      'use "sysfs" on a Pi, or pass --bench-socket',
    );
  }
  if (g.backend === 'bench' && !socket) {
    throw new VerifyError(
      `${o.configFile}: hardware.gpio.benchSocket is missing`,
      'pass --bench-socket <wires.sock> (brana-bench up prints it)',
    );
  }
  let hal: Awaited<ReturnType<typeof createHal>>;
  try {
    hal = await createHal(
      socket ? { gpio: { backend: 'bench', socketPath: socket } } : { gpio: { backend: 'sysfs' } },
    );
  } catch (err) {
    const m = (err as Error).message;
    throw new VerifyError(
      m.replace(/\. Fix: .*$/, ''),
      /Fix: (.*)$/.exec(m)?.[1] ?? 'check the GPIO backend',
      err,
    );
  }
  try {
    const connectBus = (bus: BusConfig) =>
      bus.type === 'rtu'
        ? hal.connectModbus({
            transport: 'rtu',
            path: bus.path,
            baudRate: bus.baud,
            parity: bus.parity,
            stopBits: bus.stopBits,
            dataBits: bus.dataBits,
            driver: bus.driver,
          })
        : hal.connectModbus({ transport: 'tcp', host: bus.host, port: bus.port });
    const plan = planVerify(config, catalogue);
    return await runVerify(
      plan,
      config,
      catalogue,
      { gpio: hal.gpio, gpioKind: socket ? 'bench' : 'sysfs', connectBus },
      {
        ...o,
        settleMs: o.settleMs ?? config.preemption?.timing.readbackSettleMs ?? 100,
      },
    );
  } finally {
    await hal.close().catch(() => {});
  }
}
