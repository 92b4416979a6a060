// fleet-server: public surface of the package.
// Modules are re-exported here as they land.
export {};
