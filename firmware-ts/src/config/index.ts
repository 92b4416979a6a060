// The gateway config schema: one contract for the fleet server, the agent and the firmware.
// Validation returns path-level errors with a fix; a JSON Schema is generated for editors.
export {
  busSchema,
  deviceSchema,
  type FieldbusConfig,
  fieldbusSchema,
  pulseInputSchema,
  readProfileDirs,
} from './fieldbus.ts';
export {
  type FlowIssue,
  type FlowIssueAt,
  type FlowNode,
  flowIssues,
  MAX_FLOW_NODES,
  MAX_FLOWS_BYTES,
  type NodeRedConfig,
  type NodeRedConfigInput,
  type NodeRedModule,
  nearestType,
  nodeRedModuleSchema,
  nodeRedSchema,
  type SealedCredentials,
  sealedCredentialsSchema,
  type ValidateFlowsOptions,
  type ValidateFlowsResult,
  validateFlows,
} from './flows.ts';
export { gatewayConfigJsonSchema } from './json-schema.ts';
export { BRANA_NODE_TYPES, NODE_RED_CORE_TYPES, NODE_RED_VERSION } from './node-red-types.ts';
export {
  approachSchema,
  type PreemptionConfig,
  preemptionSchema,
  type Role,
  roleSchema,
  vehicleKeySchema,
} from './preemption.ts';
export {
  alarmSchema,
  CONFIG_SCHEMA_VERSION,
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigSchema,
  gatewayConfigSchemaWith,
  gatewayConfigShape,
  hardwareSchema,
  RELAY_OWNERS,
  type RelayOwner,
  relaySchema,
  telemetrySchema,
} from './schema.ts';
export {
  type ConfigIssue,
  formatConfigIssues,
  formatPath,
  loadGatewayConfigFile,
  type ValidateOptions,
  type ValidationResult,
  validateGatewayConfig,
} from './validate.ts';
