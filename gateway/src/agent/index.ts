// The agent assembled: startGateway({ dataDir, serverUrl, claimToken?, firmware, nodeRed?, localApiPort })
// runs the IPC server, journal, fleet link, config applier and its targets (firmware, Node-RED),
// the supervisor and the local API together.
export { defaultConfigValidator, type Gateway, startGateway } from './agent.ts';
export { FirmwareTarget, firmwareView } from './firmware-target.ts';
export { checkGatewayOptions, type GatewayOptions, type GatewayStatus, type LogFn } from './options.ts';
