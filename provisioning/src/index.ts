// provisioning: brana-provision, the technician's CLI, and the library under it: claim tokens from
// the fleet server, SD-card boot files, the wiring check, labels. The CLI is src/cli/.
export * from './errors.ts';
export * from './fleet/index.ts';
export * from './label/index.ts';
export * from './sd-card/index.ts';
export * from './validate/index.ts';
export * from './verify/index.ts';
