// The `fieldbus` process without its command line: from a validated gateway config and the device
// catalogue it starts the buses and S0 inputs, persists state, and hands every record to a sink.
import { renameSync } from 'node:fs';
import type { Catalogue } from '@brana/hardware';
import type { GatewayConfig } from '../config/index.ts';
import type { Clock, GpioBackend } from '../hal/index.ts';
import { FieldbusEngine } from './engine.ts';
import { FieldbusConfigError, FieldbusStateError } from './errors.ts';
import { type BusOpeners, buildFieldbus, modbusSerialOpeners } from './from-config.ts';
import { PulseInput } from './pulse-input.ts';
import type { FieldbusSink } from './records.ts';
import { emptyState, type FieldbusState, loadStateFile, saveStateFile } from './state-file.ts';

export interface FieldbusProcessOptions {
  config: Pick<GatewayConfig, 'buses' | 'devices' | 'pulses'>;
  catalogue: Catalogue;
  clock: Clock;
  sink: FieldbusSink;
  /** JSON state file (counter totals, open quarter hours, pulse counts). */
  stateFile: string;
  /** Needed only when the config has pulse inputs. */
  gpio?: GpioBackend;
  openers?: BusOpeners;
  /** Told about recoverable trouble (a damaged state file set aside). */
  warn?: (message: string) => void;
  persistEveryMs?: number;
}

export interface FieldbusProcess {
  engine: FieldbusEngine;
  pulses: PulseInput[];
  stop(): Promise<void>;
}

/** Loads the state file; a damaged one is moved aside (named in the warning) and the run starts empty. */
export function loadOrResetState(file: string, warn: (m: string) => void): FieldbusState {
  try {
    return loadStateFile(file);
  } catch (err) {
    if (!(err instanceof FieldbusStateError)) throw err;
    const aside = `${file}.damaged-${Date.now()}`;
    try {
      renameSync(file, aside);
      warn(`${err.message}; moved it to ${aside}, starting with empty totals`);
    } catch {
      warn(`${err.message}; starting with empty totals`);
    }
    return emptyState();
  }
}

/** Starts polling. Throws `FieldbusConfigError` (path and fix) before opening anything if the config cannot run. */
export async function startFieldbusProcess(o: FieldbusProcessOptions): Promise<FieldbusProcess> {
  const { buses, devices } = buildFieldbus(o.config, o.catalogue, o.openers ?? modbusSerialOpeners);
  const pulseProfiles = o.config.pulses.map((p, i) => {
    const profile = o.catalogue.get(p.profile);
    if (profile?.kind !== 's0') {
      throw new FieldbusConfigError(
        `pulses[${i}].profile`,
        profile ? `profile "${p.profile}" is not an S0 pulse meter` : `unknown device profile "${p.profile}"`,
        `use one of: ${[...o.catalogue.values()]
          .filter((x) => x.kind === 's0')
          .map((x) => x.id)
          .join(', ')}`,
      );
    }
    return profile;
  });
  if (o.config.pulses.length > 0 && !o.gpio) {
    throw new FieldbusConfigError(
      'pulses',
      'pulse inputs need a GPIO backend',
      'set hardware.gpio in the config',
    );
  }
  const warn = o.warn ?? (() => undefined);
  const state = loadOrResetState(o.stateFile, warn);
  const persist = (s: FieldbusState) => {
    try {
      saveStateFile(o.stateFile, s);
    } catch (err) {
      warn(
        `cannot save ${o.stateFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); totals since the last save would be re-read from the meters`,
      );
    }
  };
  const engine = new FieldbusEngine(buses, devices, {
    clock: o.clock,
    sink: o.sink,
    state,
    persist,
    ...(o.persistEveryMs !== undefined ? { persistEveryMs: o.persistEveryMs } : {}),
  });
  const pulses: PulseInput[] = [];
  for (const [i, p] of o.config.pulses.entries()) {
    const input = await o.gpio!.openInput(p.line, { edge: 'both' });
    pulses.push(
      new PulseInput({
        name: p.name,
        input,
        profile: pulseProfiles[i]!,
        ...(p.impulsesPerUnit !== undefined ? { impulsesPerUnit: p.impulsesPerUnit } : {}),
        debounceMs: p.debounceMs,
        clock: o.clock,
        sink: o.sink,
        state,
      }),
    );
  }
  engine.start();
  return {
    engine,
    pulses,
    stop: async () => {
      for (const p of pulses) await p.close();
      // The engine persists the shared state (pulse counts included) as it stops.
      await engine.stop();
    },
  };
}
