// gateway: public surface of the package.
// Modules are re-exported here as they land.

export * from './agent/index.ts';
export * from './apply/index.ts';
export * from './errors.ts';
export * from './fleet/index.ts';
export * from './journal/index.ts';
export * from './local-api/index.ts';
export * from './node-red/index.ts';
export * from './state/index.ts';
export * from './supervisor/index.ts';
