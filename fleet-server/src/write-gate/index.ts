// The gate between the event loop's writes and the telemetry writer thread's transactions on the
// one SQLite file; its own module so the writer thread loads nothing else of the server.
export { loopWrite, registerWriteGate, WriteGate } from './write-gate.ts';
