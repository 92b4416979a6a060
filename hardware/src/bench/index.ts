// Bench rig: simulated devices that speak the real protocols (Modbus RTU on a pty, Modbus TCP),
// simulated GPIO wires shared across processes, pulse trains, rig files and startRig.
export { BenchError, WireError } from './errors.ts';
export type { BusDeviceSpec, ModbusHandler } from './modbus-sim/device.ts';
export { FAULT_KINDS, type FaultKind, FaultPlan, type FaultRule } from './modbus-sim/faults.ts';
export { type Parity, RtuSlave, type RtuSlaveOptions, type RtuSlaveStats } from './modbus-sim/rtu-slave.ts';
export { ModbusTcpServer, type TcpServerOptions, type TcpServerStats } from './modbus-sim/tcp-server.ts';
export { RIG_JSON_SCHEMA_PATH, renderRigJsonSchema } from './rig/json-schema.ts';
export { checkRig, loadRigFile, parseRig, RigError, validateRig } from './rig/load.ts';
export { type Rig, type RigDevice, type RtuBusConfig, rigSchema, type TcpBusConfig } from './rig/schema.ts';
export {
  type DeviceEndpoint,
  describeEndpoints,
  type RigEndpoints,
  type RunningRig,
  type StartRigOptions,
  startRig,
  startRigFile,
} from './rig/start-rig.ts';
export { type Clock, ManualClock, realClock, scaledClock } from './sim/clock.ts';
export { type Random, seededRandom } from './sim/random.ts';
export { RegisterBank, type RegisterBankOptions } from './sim/register-bank.ts';
export { encodeWireMessage, WireFrameDecoder, type WireMessage } from './wires/frame.ts';
export { MemoryWires, type MemoryWiresOptions } from './wires/memory-wires.ts';
export {
  type PulseTrain,
  type S0PulseOptions,
  type StrobeOptions,
  s0IntervalMs,
  startS0Pulses,
  startStrobe,
} from './wires/pulses.ts';
export { type EdgeListener, type Level, LINE_NAME, type Wires } from './wires/types.ts';
export { connectWires, WireClient } from './wires/wire-client.ts';
export { WireServer, type WireServerOptions } from './wires/wire-server.ts';
