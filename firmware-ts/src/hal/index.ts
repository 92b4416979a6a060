// Hardware abstraction: read/write primitives for time, GPIO, serial and Modbus, each an
// interface with real (Linux), bench and in-memory backends. Profiles and apps give them meaning.
export { type Clock, MAX_TIMER_DELAY_MS, sleepMs, type TimerHandle } from './clock/clock.ts';
export { RealClock, type RealClockOptions } from './clock/real-clock.ts';
export { VirtualClock, type VirtualClockOptions } from './clock/virtual-clock.ts';
export {
  createHal,
  type Hal,
  type HalConfig,
  type HalDependencies,
  halConfigSchema,
  type ModbusConnection,
  parseHalConfig,
} from './create-hal.ts';
export type {
  DigitalInput,
  DigitalInputOptions,
  DigitalOutput,
  DigitalOutputOptions,
  EdgeKind,
  EdgeListener,
  GpioBackend,
  Level,
  Unsubscribe,
} from './gpio/digital.ts';
export { EdgeFilter } from './gpio/edge-filter.ts';
export { openSysfsGpio, SysfsGpio, type SysfsGpioOptions } from './gpio/sysfs-gpio.ts';
export { WireGpio, type WireGpioOptions } from './gpio/wire-gpio.ts';
export { MODBUS_LIMITS, type ModbusClient, type ModbusRequestOptions } from './modbus/modbus-client.ts';
export {
  type ModbusRtuOptions,
  ModbusSerialClient,
  type ModbusTcpOptions,
  mapModbusError,
} from './modbus/modbus-serial-client.ts';
export { type RtuClientStats, RtuModbusClient, type RtuModbusClientOptions } from './modbus/rtu-client.ts';
export { type TcpClientStats, TcpModbusClient, type TcpModbusClientOptions } from './modbus/tcp-client.ts';
export { TcpSerialPort, type TcpSerialPortOptions } from './modbus/tcp-serial-port.ts';
export {
  createMemorySerialPair,
  type MemorySerialPairOptions,
  MemorySerialPort,
} from './serial/memory-serial.ts';
export { NodeSerialPort, type NodeSerialPortOptions } from './serial/node-serial-port.ts';
export { resolveSerialSettings, STANDARD_BAUD_RATES } from './serial/options.ts';
export {
  bitsPerChar,
  DEFAULT_SERIAL_SETTINGS,
  type Parity,
  type SerialPort,
  type SerialSettings,
  serialCharTimeMs,
} from './serial/serial-port.ts';
