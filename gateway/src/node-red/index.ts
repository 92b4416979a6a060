// Node-RED on the gateway: the agent runs it as its own supervised process with settings made
// from the config, applies the config's flows through its admin API inside the config trial, turns
// its log lines into rate-limited journal events, and reports deploys made in the editor (drift).
export { type DeployedFlows, NodeRedAdmin, type NodeSet } from './admin-client.ts';
export {
  CredentialsError,
  type CredentialsKey,
  type FlowCredentials,
  keyIdOf,
  loadCredentialsKey,
  openCredentials,
  sealCredentials,
} from './credentials.ts';
export { type DriftNode, describeDiff, diffFlows, type FlowDiff, isEmptyDiff } from './drift.ts';
export {
  type DriftRecord,
  LAUNCHER,
  type NodeRedEvent,
  NodeRedHost,
  type NodeRedHostOptions,
  type NodeRedProcessMode,
  type NodeRedState,
  type NodeRedStatus,
} from './host.ts';
export { type LinkMessage, linkMessageSchema } from './link.ts';
export {
  admitLog,
  DEFAULT_LOG_LIMIT,
  initialLogLimit,
  type LogLimitPolicy,
  takeSummary,
} from './log-limit.ts';
export { installModules, missingModules, tarballName } from './modules.ts';
export { type NodeRedPaths, nodeRedPaths } from './paths.ts';
export { type RegistryTypes, registryTypes, renderTypesModule } from './registry-types.ts';
export { EDITOR_USER, ensureSecrets } from './secrets.ts';
export { BRANA_MODULE, type HostSettings, type LaunchPlan, launchPlan } from './settings.ts';
export { type TrialIssue, type TrialSighting, trialVerdict } from './trial.ts';
