// The link to the gateways: the WebSocket endpoint that speaks the wire protocol, and the registry
// of live sessions that rollouts push desired configs through and pages ask who is online.
export { GatewayHub, type GatewayHubDeps } from './hub.ts';
export { GatewaySessions, type Session } from './sessions.ts';
