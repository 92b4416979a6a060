// The firmware processes a site's gateway supervises on the bench: `brana-firmware rt` where the
// config has a preemption section (the intersection) or alarms and relays (the care home's SOS
// cord), `brana-firmware fieldbus` where it has buses or pulse inputs (the buildings). `{config}` and `{socket}` are filled in by the supervisor.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GatewayConfigDoc } from './configs.ts';

export interface FirmwareCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export function firmwareBin(): string {
  // The package's entry is firmware-ts/src/index.ts; its bin sits in firmware-ts/bin.
  const entry = createRequire(import.meta.url).resolve('@brana/firmware');
  return join(dirname(entry), '..', 'bin', 'brana-firmware.mjs');
}

/** Which subcommands this checkout's brana-firmware has (a part may not have landed yet). */
export function firmwareSubcommands(bin = firmwareBin()): Set<string> {
  const found = new Set<string>();
  if (!existsSync(bin)) return found;
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 30_000 });
  const commands = (r.stdout ?? '').split('Commands:')[1] ?? '';
  for (const sub of ['rt', 'fieldbus']) if (new RegExp(`^\\s+${sub}\\b`, 'm').test(commands)) found.add(sub);
  return found;
}

export function firmwareFor(
  config: GatewayConfigDoc,
  available: ReadonlySet<string>,
  gatewayDir: string,
  bin = firmwareBin(),
): { rt?: FirmwareCommand; fieldbus?: FirmwareCommand; missing: string[] } {
  const out: { rt?: FirmwareCommand; fieldbus?: FirmwareCommand; missing: string[] } = { missing: [] };
  const base = (sub: string, extra: string[]): FirmwareCommand => ({
    command: process.execPath,
    args: [bin, sub, '--config', '{config}', '--agent-socket', '{socket}', ...extra],
  });
  const hasAlarms =
    (Array.isArray(config.alarms) && config.alarms.length > 0) ||
    (Array.isArray(config.relays) && config.relays.length > 0);
  if (config.preemption !== undefined || hasAlarms) {
    if (available.has('rt')) out.rt = base('rt', ['--no-hw-watchdog']);
    else out.missing.push('brana-firmware rt');
  }
  const hasBus = Array.isArray(config.buses) && config.buses.length > 0;
  const hasPulses = Array.isArray(config.pulses) && config.pulses.length > 0;
  if (hasBus || hasPulses) {
    // Counter totals and open quarter-hours survive restarts in the gateway's own folder.
    if (available.has('fieldbus'))
      out.fieldbus = base('fieldbus', ['--state-file', join(gatewayDir, 'fieldbus-state.json')]);
    else out.missing.push('brana-firmware fieldbus');
  }
  return out;
}
