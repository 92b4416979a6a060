// fleet-server: enrolment, signed configuration rollouts and exactly-once telemetry for a fleet of
// gateways. The device wire protocol is also exported alone as '@brana/fleet-server/protocol'.
export * from './protocol/index.ts';
