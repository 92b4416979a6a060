// The agent assembled: startGateway({ dataDir, serverUrl, claimToken?, firmware, localApiPort })
// runs the IPC server, journal, fleet link, config applier, supervisor and local API together.
export {
  checkGatewayOptions,
  defaultConfigValidator,
  type Gateway,
  type GatewayOptions,
  type GatewayStatus,
  type LogFn,
  startGateway,
} from './agent.ts';
