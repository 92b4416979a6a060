// Gateway configuration: versioned documents validated with the firmware schema and signed with
// the server's key, their API, and the console's editor, version and diff pages.
export { type ConfigsDeps, configsApi } from './api.ts';
export { configToText, parseConfigText } from './config-text.ts';
export { firmwareConfigValidator } from './firmware.ts';
export { configsPages } from './pages.tsx';
export {
  type ConfigSummary,
  type ConfigValidationIssue,
  type ConfigValidator,
  createConfigDocument,
  getConfigDocument,
  listConfigDocuments,
} from './store.ts';
