// @brana/hardware: devices and boards as data (profiles, register codec), the Modbus and priority-frame
// protocols, and the bench rig whose simulators speak them on real ptys, sockets and wire lines.

export * from './bench/index.ts';
export * from './boards/index.ts';
export * from './errors.ts';
export * from './keys/index.ts';
export * from './modbus/index.ts';
export * from './preemption-sim/index.ts';
export * from './priority/index.ts';
export * from './profiles/index.ts';
export * from './registers/index.ts';
