// The fleet server's database: the SQLite file and its drizzle schema and migrations, the write
// gate between the event loop and the telemetry writer thread, and WAL checkpoints on a thread.

export { loopWrite, registerWriteGate, WriteGate } from '../write-gate/index.ts';
export { type Checkpointer, type CheckpointerOptions, startCheckpointer } from './checkpointer.ts';
export {
  DEFAULT_DB_PATH,
  type FleetDatabase,
  type FleetDb,
  type FleetTx,
  openFleetDatabase,
  writeTx,
} from './open.ts';
export * as schema from './schema.ts';
