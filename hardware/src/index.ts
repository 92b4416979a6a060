// hardware: public surface of the package.
// Modules are re-exported here as they land.

export * from './bench/index.ts';
export * from './boards/index.ts';
export * from './errors.ts';
export * from './modbus/index.ts';
export * from './preemption-sim/index.ts';
export * from './priority/index.ts';
export * from './profiles/index.ts';
export * from './registers/index.ts';
