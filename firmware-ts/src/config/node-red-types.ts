// Generated from Node-RED's own node registry by `npx tsx scripts/node-red-types.ts`: do not edit.
// gateway/src/node-red/registry-types.test.ts fails when the installed Node-RED or
// node-red-contrib-brana registers other types than these; run the script again then.

/** The Node-RED version the lists were taken from. */
export const NODE_RED_VERSION = '4.1.15';

/** Node types of Node-RED's core nodes. */
export const NODE_RED_CORE_TYPES: readonly string[] = [
  'batch',
  'catch',
  'change',
  'comment',
  'complete',
  'csv',
  'debug',
  'delay',
  'exec',
  'file',
  'file in',
  'function',
  'global-config',
  'html',
  'http in',
  'http proxy',
  'http request',
  'http response',
  'inject',
  'join',
  'json',
  'junction',
  'link call',
  'link in',
  'link out',
  'mqtt in',
  'mqtt out',
  'mqtt-broker',
  'range',
  'rbe',
  'sort',
  'split',
  'status',
  'switch',
  'tcp in',
  'tcp out',
  'tcp request',
  'template',
  'tls-config',
  'trigger',
  'udp in',
  'udp out',
  'unknown',
  'watch',
  'websocket in',
  'websocket out',
  'websocket-client',
  'websocket-listener',
  'xml',
  'yaml',
];

/** Node types of node-red-contrib-brana (the flows/ workspace). */
export const BRANA_NODE_TYPES: readonly string[] = [];
