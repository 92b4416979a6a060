// firmware-ts: public surface of the package.
// Modules are re-exported here as they land; append `export * from` lines, one per module.
export * from './config/index.ts';
export * from './errors.ts';
export * from './fieldbus/index.ts';
export * from './hal/index.ts';
export * from './ipc/index.ts';
export * from './rt/index.ts';
