// Bench rig: simulated devices that speak the real protocols (Modbus RTU on a pty, Modbus TCP),
// simulated GPIO wires shared across processes, pulse trains, rig files and startRig.
export { BenchError, WireError } from './errors.ts';
export { encodeWireMessage, WireFrameDecoder, type WireMessage } from './wires/frame.ts';
export { MemoryWires, type MemoryWiresOptions } from './wires/memory-wires.ts';
export { type EdgeListener, type Level, LINE_NAME, type Wires } from './wires/types.ts';
export { connectWires, WireClient } from './wires/wire-client.ts';
export { WireServer, type WireServerOptions } from './wires/wire-server.ts';
