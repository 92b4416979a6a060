// Picks the backends of a gateway's hardware from configuration. Production, bench and tests run
// the same code; only the backends chosen here (and what the caller injects) differ.
import type { Wires } from '@brana/hardware';
import { connectWires, MemoryWires } from '@brana/hardware';
import { z } from 'zod';
import { HalConfigError } from '../errors.ts';
import type { Clock } from './clock/clock.ts';
import { RealClock } from './clock/real-clock.ts';
import { VirtualClock } from './clock/virtual-clock.ts';
import type { GpioBackend } from './gpio/digital.ts';
import { openSysfsGpio } from './gpio/sysfs-gpio.ts';
import { WireGpio } from './gpio/wire-gpio.ts';
import type { ModbusClient } from './modbus/modbus-client.ts';
import { ModbusSerialClient } from './modbus/modbus-serial-client.ts';
import { RtuModbusClient } from './modbus/rtu-client.ts';
import { createMemorySerialPair } from './serial/memory-serial.ts';
import { NodeSerialPort } from './serial/node-serial-port.ts';
import type { SerialPort, SerialSettings } from './serial/serial-port.ts';

export const halConfigSchema = z.strictObject({
  /** 'real' on gateways and in latency benchmarks; 'virtual' for fast-forwarded bench runs. */
  clock: z.enum(['real', 'virtual']).default('real'),
  gpio: z.discriminatedUnion('backend', [
    z.strictObject({
      backend: z.literal('sysfs'),
      /** sysfs number of BCM line 0; discovered from gpiochip labels when omitted. */
      gpioBase: z.number().int().min(0).optional(),
    }),
    z.strictObject({
      backend: z.literal('bench'),
      /** The wire bus socket `brana-bench up` printed. */
      socketPath: z.string().min(1),
    }),
    z.strictObject({ backend: z.literal('memory') }),
  ]),
  /** 'native': ttys and bench ptys through the serial binding. 'memory': in-process pairs. */
  serial: z.enum(['native', 'memory']).default('native'),
});

export type HalConfig = z.input<typeof halConfigSchema>;

export type ModbusConnection =
  | ({
      transport: 'rtu';
      path: string;
      timeoutMs?: number;
      /**
       * 'modbus-serial' (default): the library's RTU master on the serial path.
       * 'brana': our RtuModbusClient on `hal.serialPort(path)` timed by `hal.clock`, so it also
       * runs on memory serial pairs in virtual time.
       */
      driver?: 'modbus-serial' | 'brana';
    } & Partial<SerialSettings>)
  | { transport: 'tcp'; host: string; port?: number; timeoutMs?: number };

export interface Hal {
  readonly clock: Clock;
  readonly gpio: GpioBackend;
  /** A serial port on `path` (not yet open). With serial 'memory' it is a MemorySerialPort; its far end is `.peer`. */
  serialPort(path: string, settings?: Partial<SerialSettings>): SerialPort;
  /** A connected Modbus client for one bus. */
  connectModbus(connection: ModbusConnection): Promise<ModbusClient>;
  /** Closes the GPIO backend (and the bench connection it opened). */
  close(): Promise<void>;
}

/** What a caller may inject instead of letting createHal build it. */
export interface HalDependencies {
  clock?: Clock;
  /** The wire bus for gpio 'memory' (so a test can drive the lines); a fresh one when omitted. */
  wires?: Wires;
  /** Replaces discovery of the GPIO base for gpio 'sysfs'. */
  discoverGpioBase?: () => number | Promise<number>;
}

const FIXES: Record<string, string> = {
  backend: "use 'sysfs' on a Raspberry Pi, 'bench' with brana-bench, 'memory' in tests",
  socketPath: 'give the wire bus socket path brana-bench up printed',
  clock: "use 'real' or 'virtual'",
  gpio: "add gpio: { backend: 'sysfs' | 'bench' | 'memory' }",
  gpioBase:
    "omit it to discover the base from the gpiochip labels, or give the SoC chip's base (0, 512 or 571)",
  serial: "use 'native' or 'memory'",
};

/** Validates a HAL configuration, throwing HalConfigError naming the first wrong field. */
export function parseHalConfig(input: unknown, where = 'hal'): z.output<typeof halConfigSchema> {
  const parsed = halConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const path = [where, ...issue.path.map(String), issue.keys[0]].join('.');
    throw new HalConfigError(
      path,
      'unknown setting',
      'remove it or check its spelling (known: clock, gpio, serial)',
    );
  }
  const path = [where, ...issue.path.map(String)].join('.');
  const last = String(issue.path.at(-1) ?? '');
  const fix = FIXES[last] ?? 'see the Hardware abstraction section of firmware-ts/README.md';
  throw new HalConfigError(path, issue.message, fix);
}

export async function createHal(config: HalConfig, deps: HalDependencies = {}): Promise<Hal> {
  const c = parseHalConfig(config);
  const clock =
    deps.clock ?? (c.clock === 'virtual' ? new VirtualClock({ startWallMs: Date.now() }) : new RealClock());
  let gpio: GpioBackend;
  switch (c.gpio.backend) {
    case 'sysfs':
      gpio = await openSysfsGpio({
        clock,
        gpioBase: c.gpio.gpioBase,
        discoverGpioBase: deps.discoverGpioBase,
      });
      break;
    case 'bench':
      gpio = new WireGpio(await connectWires(c.gpio.socketPath), { clock, kind: 'bench', ownsBus: true });
      break;
    case 'memory':
      gpio = new WireGpio(deps.wires ?? new MemoryWires(), {
        clock,
        kind: 'memory',
        ownsBus: deps.wires === undefined,
      });
      break;
  }
  function serialPort(path: string, settings: Partial<SerialSettings> = {}): SerialPort {
    if (c.serial === 'native') return new NodeSerialPort({ path, ...settings });
    const [port] = createMemorySerialPair({ paths: [path, `${path}.peer`], settings, pacedBy: clock });
    return port;
  }
  return {
    clock,
    gpio,
    serialPort,
    async connectModbus(connection) {
      if (connection.transport === 'rtu' && connection.driver === 'brana') {
        const { path, timeoutMs, driver: _driver, transport: _transport, ...settings } = connection;
        return RtuModbusClient.open({ port: serialPort(path, settings), clock, timeoutMs });
      }
      if (connection.transport === 'rtu') return ModbusSerialClient.connectRtu(connection);
      if (connection.transport === 'tcp') return ModbusSerialClient.connectTcp(connection);
      throw new HalConfigError(
        'modbus.transport',
        `unknown transport '${String((connection as { transport: unknown }).transport)}'`,
        "use 'rtu' or 'tcp'",
      );
    },
    close: () => gpio.close(),
  };
}
