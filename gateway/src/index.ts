// gateway: public surface of the package.
// Modules are re-exported here as they land.

export * from './apply/index.ts';
export * from './errors.ts';
export * from './fleet/index.ts';
export * from './journal/index.ts';
