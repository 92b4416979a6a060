// Start everything a rig file describes and report where to reach it.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Catalogue, loadCatalogue, type ModbusProfile, type S0Profile } from '../../profiles/index.ts';
import type { BusDeviceSpec } from '../modbus-sim/device.ts';
import type { FaultRule } from '../modbus-sim/faults.ts';
import { RtuSlave } from '../modbus-sim/rtu-slave.ts';
import { sleepUntil } from '../modbus-sim/sleep.ts';
import { ModbusTcpServer } from '../modbus-sim/tcp-server.ts';
import { type Clock, realClock } from '../sim/clock.ts';
import { seededRandom } from '../sim/random.ts';
import { RegisterBank } from '../sim/register-bank.ts';
import { type PulseTrain, startS0Pulses, startStrobe } from '../wires/pulses.ts';
import { WireServer } from '../wires/wire-server.ts';
import { loadRigFile } from './load.ts';
import type { Rig, RigDevice } from './schema.ts';

export interface DeviceEndpoint {
  unit: number;
  profile: string;
  name?: string;
}

export interface RigEndpoints {
  rtu: {
    bus: string;
    path: string;
    baud: number;
    parity: 'none' | 'even' | 'odd';
    devices: DeviceEndpoint[];
  }[];
  tcp: {
    bus: string;
    host: string;
    port: number;
    framing: 'mbap' | 'rtu';
    devices: DeviceEndpoint[];
  }[];
  wires: { socket: string; lines: string[] };
}

export interface RunningRig {
  endpoints: RigEndpoints;
  /** The register bank of each Modbus device, by `<bus>/<unit>`; tests compare with what masters read. */
  banks: ReadonlyMap<string, RegisterBank>;
  wires: WireServer;
  /** Make the next request to a device show a fault. */
  injectFault(bus: string, unit: number, rule: FaultRule): void;
  /** The simulator of a TCP bus, to play its network faults (modes, dropped connections). */
  tcpServer(bus: string): ModbusTcpServer;
  stop(): Promise<void>;
}

export interface StartRigOptions {
  /** Directory for pty links and the wire socket. Created if missing. */
  dir: string;
  /** Profiles the rig refers to. Default: the catalogue in hardware/profiles. */
  catalogue?: Catalogue;
  /** Time of the simulated world. Default: the real clock. */
  clock?: Clock;
  /** How much faster than real time pulse trains run (match the clock). Default 1. */
  speed?: number;
  /** Told about trouble after start, e.g. socat dying under an RTU line. */
  onProblem?: (message: string) => void;
}

/** A one-point profile whose only point follows an S0 meter's rate model, for the pulse generator. */
function rateProfile(s0: S0Profile): ModbusProfile {
  const sim = s0.sim.powerW ?? s0.sim.flowM3H;
  return {
    id: `${s0.id}-rate`,
    vendor: s0.vendor,
    model: s0.model,
    docs: s0.docs,
    kind: 'modbus',
    bus: {
      maxRegistersPerRead: 125,
      gapFill: 0,
      readableHoles: false,
      timeoutMs: 1000,
      interFrameDelayMs: 0,
      defaultBaud: 9600,
      baudRates: [9600],
      parity: 'none',
      dataBits: 8,
      stopBits: 1,
      defaultUnitId: 1,
      transports: ['rtu'],
    },
    defaults: { functionCode: 4, type: 'f32', wordOrder: 'big', poll: 'fast' },
    sim: { turnaroundMs: [0, 0] },
    points: [
      {
        key: 'rate',
        address: 0,
        functionCode: 4,
        type: 'f32',
        wordOrder: 'big',
        scale: 1,
        offset: 0,
        unit: '',
        kind: 'gauge',
        poll: 'fast',
        writable: false,
        ...(sim === undefined ? {} : { sim }),
      },
    ],
  } as ModbusProfile;
}

export async function startRig(rig: Rig, options: StartRigOptions): Promise<RunningRig> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const clock = options.clock ?? realClock;
  const catalogue = options.catalogue ?? loadCatalogue();
  const speed = options.speed ?? 1;
  const seed = rig.seed ?? 1;
  const banks = new Map<string, RegisterBank>();
  const stops: (() => Promise<void>)[] = [];
  const faultTargets = new Map<string, { injectFault(unit: number, rule: FaultRule): void }>();
  const tcpServers = new Map<string, ModbusTcpServer>();
  const endpoints: RigEndpoints = { rtu: [], tcp: [], wires: { socket: join(dir, 'wires.sock'), lines: [] } };

  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };

  const specs = (bus: string, devices: readonly RigDevice[]): BusDeviceSpec[] =>
    devices.map((d, i) => {
      const profile = catalogue.get(d.profile) as ModbusProfile;
      const bank = new RegisterBank(profile, { clock, seed: seed * 1000 + i + (profile.sim.seed ?? 0) });
      banks.set(`${bus}/${d.unit}`, bank);
      return { unit: d.unit, handler: bank, turnaroundMs: profile.sim.turnaroundMs, faults: d.faults, seed };
    });
  const describe = (devices: readonly RigDevice[]): DeviceEndpoint[] =>
    devices.map((d) => ({
      unit: d.unit,
      profile: d.profile,
      ...(d.name === undefined ? {} : { name: d.name }),
    }));

  try {
    const wires = await WireServer.listen({ path: endpoints.wires.socket });
    stops.push(() => wires.close());
    for (const line of rig.wires.lines) await wires.bus.set(line, 0);

    for (const bus of rig.buses) {
      if (bus.type === 'rtu') {
        const slave = await RtuSlave.start({
          dir,
          name: bus.name,
          baud: bus.baud,
          parity: bus.parity,
          devices: specs(bus.name, bus.devices),
          seed,
          ...(options.onProblem === undefined ? {} : { onLineDown: options.onProblem }),
        });
        stops.push(() => slave.stop());
        faultTargets.set(bus.name, slave);
        endpoints.rtu.push({
          bus: bus.name,
          path: slave.clientPath,
          baud: bus.baud,
          parity: bus.parity,
          devices: describe(bus.devices),
        });
      } else {
        const server = await ModbusTcpServer.start({
          host: bus.host,
          port: bus.port,
          devices: specs(bus.name, bus.devices),
          seed,
          framing: bus.framing,
        });
        stops.push(() => server.stop());
        faultTargets.set(bus.name, server);
        tcpServers.set(bus.name, server);
        endpoints.tcp.push({
          bus: bus.name,
          host: server.host,
          port: server.port,
          framing: bus.framing,
          devices: describe(bus.devices),
        });
      }
    }

    const trains: PulseTrain[] = [];
    let strobeLoopsStopped = false;
    stops.push(async () => {
      strobeLoopsStopped = true;
      for (const t of trains) await t.stop();
    });
    for (const s of rig.wires.s0) {
      const profile = catalogue.get(s.profile) as S0Profile;
      const bank = new RegisterBank(rateProfile(profile), { clock, seed });
      const perUnit = profile.sim.powerW !== undefined ? 1000 : 1; // W → kW; m³/h stays
      const pulseMs = s.pulseMs ?? Math.min(100, Math.max(30, profile.pulse.minPulseMs + 10, 50));
      await wires.bus.set(s.line, 0);
      trains.push(
        startS0Pulses(wires.bus, s.line, {
          impulsesPerUnit: profile.pulse.impulsesPerUnit,
          ratePerHour: () => (bank.valueOf('rate') as number) / perUnit,
          pulseMs: Math.min(pulseMs, profile.pulse.maxPulseMs),
          speed,
        }),
      );
    }
    rig.wires.strobes.forEach((s, i) => {
      const random = seededRandom(seed * 31 + i);
      void (async () => {
        await sleepUntil(performance.now() + s.startAfterS * 1000);
        do {
          if (strobeLoopsStopped) return;
          const train = startStrobe(wires.bus, s.line, {
            hz: s.hz,
            pulses: s.pulses,
            pulseMs: s.pulseMs,
            random,
          });
          trains.push(train);
          await train.done;
          if (s.everyS === undefined) return;
          await sleepUntil(performance.now() + Math.max(0, s.everyS * 1000 - s.pulses * (1000 / s.hz)));
        } while (!strobeLoopsStopped);
      })();
    });
    for (const s of rig.wires.strobes) await wires.bus.set(s.line, 0);

    endpoints.wires.lines = wires.bus.lines();
    return {
      endpoints,
      banks,
      wires,
      injectFault: (bus, unit, rule) => {
        const target = faultTargets.get(bus);
        if (target === undefined) throw new RangeError(`rig ${rig.name} has no bus "${bus}"`);
        target.injectFault(unit, rule);
      },
      tcpServer: (bus) => {
        const server = tcpServers.get(bus);
        if (server === undefined) {
          throw new RangeError(
            `rig ${rig.name} has no TCP bus "${bus}"; TCP buses: ${[...tcpServers.keys()].join(', ') || '(none)'}`,
          );
        }
        return server;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Human-readable endpoint lines, as `brana-bench up` prints them. */
export function describeEndpoints(e: RigEndpoints): string[] {
  const who = (d: DeviceEndpoint): string =>
    `unit ${d.unit} ${d.profile}${d.name === undefined ? '' : ` (${d.name})`}`;
  const out: string[] = [];
  for (const r of e.rtu)
    out.push(`rtu  ${r.bus}: ${r.path} ${r.baud} Bd parity ${r.parity}; ${r.devices.map(who).join(', ')}`);
  for (const t of e.tcp) {
    const framing = t.framing === 'rtu' ? ' (RTU frames over TCP)' : '';
    out.push(`tcp  ${t.bus}: ${t.host}:${t.port}${framing}; ${t.devices.map(who).join(', ')}`);
  }
  out.push(`wire ${e.wires.socket}; lines: ${e.wires.lines.join(', ') || '(none yet)'}`);
  return out;
}

/** Load a rig file (checked against the catalogue) and start it: what `npm start` and the gateway call. */
export async function startRigFile(path: string, options: StartRigOptions): Promise<RunningRig> {
  const catalogue = options.catalogue ?? loadCatalogue();
  return startRig(loadRigFile(path, catalogue), { ...options, catalogue });
}
