// Turns the `buses` and `devices` sections of a gateway config plus the device catalogue into
// what the engine runs. Everything that can be wrong with the pair is found here, before any
// port is opened, and named by config path with a fix.
import type { Catalogue, ModbusProfile } from '@brana/hardware';
import { charTimeMs, t35Ms } from '@brana/hardware';
import type { FieldbusConfig } from '../config/fieldbus.ts';
import type { ModbusClient } from '../hal/index.ts';
import { ModbusSerialClient, NodeSerialPort, RealClock, RtuModbusClient } from '../hal/index.ts';
import type { EngineBus, EngineDevice } from './engine.ts';
import { FieldbusConfigError } from './errors.ts';
import { planReads } from './read-planner.ts';

type BusConfig = FieldbusConfig['buses'][number];

/** How a bus is opened; tests and the bench may swap these. RTU uses the bus's `driver`. */
export interface BusOpeners {
  rtu(bus: Extract<BusConfig, { type: 'rtu' }>, timeoutMs: number): Promise<ModbusClient>;
  tcp(bus: Extract<BusConfig, { type: 'tcp' }>, timeoutMs: number): Promise<ModbusClient>;
}

export const modbusSerialOpeners: BusOpeners = {
  rtu: (bus, timeoutMs) =>
    bus.driver === 'brana'
      ? RtuModbusClient.open({
          port: new NodeSerialPort({
            path: bus.path,
            baudRate: bus.baud,
            parity: bus.parity,
            stopBits: bus.stopBits,
            dataBits: bus.dataBits,
          }),
          clock: new RealClock(),
          timeoutMs,
        })
      : ModbusSerialClient.connectRtu({
          path: bus.path,
          baudRate: bus.baud,
          parity: bus.parity,
          stopBits: bus.stopBits,
          dataBits: bus.dataBits,
          timeoutMs,
        }),
  tcp: (bus, timeoutMs) => ModbusSerialClient.connectTcp({ host: bus.host, port: bus.port, timeoutMs }),
};

export interface FieldbusPlan {
  buses: EngineBus[];
  devices: EngineDevice[];
}

/** Builds engine buses and devices; throws `FieldbusConfigError` naming the config path. */
export function buildFieldbus(
  config: Pick<FieldbusConfig, 'buses' | 'devices'>,
  catalogue: Catalogue,
  openers: BusOpeners = modbusSerialOpeners,
): FieldbusPlan {
  const devices: EngineDevice[] = [];
  config.devices.forEach((d, i) => {
    const at = `devices[${i}]`;
    const profile = catalogue.get(d.profile);
    if (!profile) {
      throw new FieldbusConfigError(
        `${at}.profile`,
        `unknown device profile "${d.profile}"`,
        `use one of: ${[...catalogue.values()]
          .filter((p) => p.kind === 'modbus')
          .map((p) => p.id)
          .join(', ')}`,
      );
    }
    if (profile.kind !== 'modbus') {
      throw new FieldbusConfigError(
        `${at}.profile`,
        `profile "${d.profile}" is a ${profile.kind} device, not a Modbus one`,
        profile.kind === 's0' ? 'list S0 meters under pulses, not devices' : 'pick a Modbus profile',
      );
    }
    const bus = config.buses.find((b) => b.name === d.bus);
    if (bus?.type === 'rtu' && (d.unit < 1 || d.unit > 247)) {
      throw new FieldbusConfigError(
        `${at}.unit`,
        `unit ${d.unit} is not a slave address on RTU`,
        'use 1-247',
      );
    }
    if (bus && !profile.bus.transports.includes(bus.type)) {
      throw new FieldbusConfigError(
        `${at}.bus`,
        `profile "${profile.id}" cannot be reached over ${bus.type.toUpperCase()}`,
        `put it on a ${profile.bus.transports.join(' or ')} bus`,
      );
    }
    const keys = new Set(profile.points.map((p) => p.key));
    d.points?.forEach((k, j) => {
      if (!keys.has(k)) {
        throw new FieldbusConfigError(
          `${at}.points[${j}]`,
          `profile "${profile.id}" has no point "${k}"`,
          `use point keys of the profile: ${[...keys].join(', ')}`,
        );
      }
    });
    try {
      planReads(profile.points, profile.bus);
    } catch (err) {
      throw new FieldbusConfigError(`${at}.profile`, (err as Error).message, 'fix the device profile', err);
    }
    devices.push({
      name: d.name,
      bus: d.bus,
      unit: d.unit,
      profile: pollProfile(profile),
      pollFastMs: d.pollFastMs,
      pollSlowMs: d.pollSlowMs,
      ...(d.points ? { points: d.points } : {}),
    });
  });
  const buses: EngineBus[] = config.buses.map((b) => {
    const on = devices.filter((d) => d.bus === b.name);
    // The slowest device on the line sets the timeout the open call gets; each request has its own.
    const timeoutMs = Math.max(500, ...on.map((d) => d.profile.bus.timeoutMs));
    return b.type === 'rtu'
      ? {
          name: b.name,
          kind: 'rtu',
          gapMs: t35Ms(b.baud),
          maxInFlight: 1,
          charMs: charTimeMs(b.baud),
          open: () => openers.rtu(b, timeoutMs),
        }
      : {
          name: b.name,
          kind: 'tcp',
          gapMs: 0,
          maxInFlight: b.maxInFlight,
          open: () => openers.tcp(b, timeoutMs),
        };
  });
  return { buses, devices };
}

/** A catalogue profile as the engine sees it. */
export function pollProfile(profile: ModbusProfile): EngineDevice['profile'] {
  return { id: profile.id, bus: profile.bus, points: profile.points };
}
