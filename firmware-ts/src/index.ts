// firmware-ts: public surface of the package.
// Modules are re-exported here as they land.

export * from './config/index.ts';
