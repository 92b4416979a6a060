// Where Node-RED's files live under the gateway's data directory. The agent owns <dataDir>/node-red
// (settings, secrets, state); Node-RED's own user dir is node-red/user (owned by the Node-RED user
// on a Pi, see gateway/README.md).
import { join } from 'node:path';

export interface NodeRedPaths {
  /** The agent's folder for Node-RED: what the launcher reads (BRANA_NODE_RED_HOST_DIR). */
  hostDir: string;
  /** Node-RED's user dir: flows.json, flows_cred.json, installed modules. */
  userDir: string;
  /** Generated from the config: editor, modules, log levels (not secret). */
  settingsFile: string;
  /** Node-RED's credentialSecret: made once per gateway, never leaves it, never rotated. */
  credentialSecretFile: string;
  /** Hashes only: the editor users' scrypt hashes and the SHA-256 of the agent's token. */
  adminFile: string;
  /** The operator's editor password (user "admin"), for `brana-gateway node-red credentials`. */
  adminPasswordFile: string;
  /** The agent's bearer token for the admin API. */
  agentTokenFile: string;
  /** Unix socket the launcher reports to. */
  linkSocket: string;
  /** The gateway's module cache: an npm cache, filled by provisioning or a release. */
  moduleCacheDir: string;
  /** What the agent deployed last (revision, config ref) and the drifted flows it keeps. */
  stateFile: string;
  driftFile: string;
  /** X25519 key that opens the config's sealed flow credentials. */
  credentialsKeyFile: string;
  /** Token for node-red-contrib-brana's local API connection (made by the local API). */
  localApiTokenFile: string;
}

export function nodeRedPaths(dataDir: string): NodeRedPaths {
  const hostDir = join(dataDir, 'node-red');
  return {
    hostDir,
    userDir: join(hostDir, 'user'),
    settingsFile: join(hostDir, 'settings.json'),
    credentialSecretFile: join(hostDir, 'credential-secret'),
    adminFile: join(hostDir, 'admin.json'),
    adminPasswordFile: join(hostDir, 'admin-password'),
    agentTokenFile: join(hostDir, 'agent-token'),
    linkSocket: join(dataDir, 'node-red-link.sock'),
    moduleCacheDir: join(hostDir, 'cache'),
    stateFile: join(hostDir, 'state.json'),
    driftFile: join(hostDir, 'drift.json'),
    credentialsKeyFile: join(dataDir, 'identity', 'flow-credentials-key.pem'),
    localApiTokenFile: join(hostDir, 'local-api.token'),
  };
}
