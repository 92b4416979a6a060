// Turns the `buses` and `devices` sections of a gateway config plus the device catalogue into
// what the engine runs. Everything that can be wrong with the pair is found here, before any
// port is opened, and named by config path with a fix.
import type { Catalogue, ModbusProfile } from '@brana/hardware';
import { charTimeMs, t35Ms } from '@brana/hardware';
import type { FieldbusConfig } from '../config/fieldbus.ts';
import type { ModbusClient } from '../hal/index.ts';
import {
  ModbusSerialClient,
  NodeSerialPort,
  RealClock,
  RtuModbusClient,
  TcpModbusClient,
  TcpSerialPort,
} from '../hal/index.ts';
import type { EngineBus, EngineDevice } from './engine.ts';
import { FieldbusConfigError } from './errors.ts';
import { planReads } from './read-planner.ts';

type BusConfig = FieldbusConfig['buses'][number];

/** How a bus is opened; tests and the bench may swap these. RTU uses the bus's `driver`. */
export interface BusOpeners {
  rtu(bus: Extract<BusConfig, { type: 'rtu' }>, timeoutMs: number): Promise<ModbusClient>;
  tcp(bus: Extract<BusConfig, { type: 'tcp' }>, timeoutMs: number): Promise<ModbusClient>;
  /** A TCP bus whose devices use `transport: rtu-over-tcp`: RTU frames over the connection. */
  rtuOverTcp(bus: Extract<BusConfig, { type: 'tcp' }>, timeoutMs: number): Promise<ModbusClient>;
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
  tcp: (bus, timeoutMs) =>
    bus.driver === 'brana'
      ? TcpModbusClient.connect({
          host: bus.host,
          port: bus.port,
          clock: new RealClock(),
          timeoutMs,
          connectTimeoutMs: bus.connectTimeoutMs,
        })
      : ModbusSerialClient.connectTcp({
          host: bus.host,
          port: bus.port,
          timeoutMs,
          connectTimeoutMs: bus.connectTimeoutMs,
        }),
  rtuOverTcp: (bus, timeoutMs) => {
    const clock = new RealClock();
    return RtuModbusClient.open({
      port: new TcpSerialPort({
        host: bus.host,
        port: bus.port,
        clock,
        settings: { baudRate: bus.baud ?? 9600 },
        connectTimeoutMs: bus.connectTimeoutMs,
      }),
      clock,
      timeoutMs,
    });
  },
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
    checkReach(at, d, bus, profile);
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
    const polled = pollProfile(profile);
    devices.push({
      name: d.name,
      bus: d.bus,
      unit: d.unit,
      profile:
        d.timeoutMs === undefined ? polled : { ...polled, bus: { ...polled.bus, timeoutMs: d.timeoutMs } },
      pollFastMs: d.pollFastMs,
      pollSlowMs: d.pollSlowMs,
      ...(d.points ? { points: d.points } : {}),
    });
  });
  const buses: EngineBus[] = config.buses.map((b) => {
    const on = devices.filter((d) => d.bus === b.name);
    // The slowest device on the line sets the timeout the open call gets; each request has its own.
    const timeoutMs = Math.max(500, ...on.map((d) => d.profile.bus.timeoutMs));
    if (b.type === 'rtu') {
      return {
        name: b.name,
        kind: 'rtu',
        gapMs: t35Ms(b.baud),
        maxInFlight: 1,
        charMs: charTimeMs(b.baud),
        open: () => openers.rtu(b, timeoutMs),
      };
    }
    // RTU frames over the connection: it is the serial line behind the converter, one lane, its
    // silences kept at that line's baud.
    const framed = config.devices.some((d) => d.bus === b.name && d.transport === 'rtu-over-tcp');
    if (framed) {
      const baud = b.baud ?? 9600;
      return {
        name: b.name,
        kind: 'rtu',
        gapMs: t35Ms(baud),
        maxInFlight: 1,
        charMs: charTimeMs(baud),
        open: () => openers.rtuOverTcp(b, timeoutMs),
      };
    }
    return {
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

/**
 * The device can be reached the way its bus and `transport` say: an RTU bus needs a profile that
 * speaks RTU; a TCP bus one that speaks TCP, or an RTU profile through a gateway or converter.
 */
function checkReach(
  at: string,
  d: FieldbusConfig['devices'][number],
  bus: BusConfig | undefined,
  profile: ModbusProfile,
): void {
  if (bus === undefined) return;
  const speaks = profile.bus.transports;
  if (d.transport !== undefined) {
    if (bus.type === 'tcp' && !speaks.includes('rtu')) {
      throw new FieldbusConfigError(
        `${at}.transport`,
        `profile "${profile.id}" speaks Modbus TCP itself, not RTU`,
        'remove transport and address the device directly on the TCP bus',
      );
    }
    return;
  }
  if (speaks.includes(bus.type)) return;
  throw new FieldbusConfigError(
    `${at}.bus`,
    `profile "${profile.id}" cannot be reached over ${bus.type.toUpperCase()}`,
    bus.type === 'tcp'
      ? 'set transport: tcp-gateway when a Modbus TCP gateway stands in front of its RS-485 line (or rtu-over-tcp for a serial server in transparent mode), or put it on an rtu bus'
      : `put it on a ${speaks.join(' or ')} bus`,
  );
}
