// The settings the Node-RED launcher reads (<hostDir>/settings.json), made from the config's
// nodeRed section. Pure: the same config gives the same file, so the agent restarts Node-RED only
// when something in it changed.
import type { NodeRedConfig } from '@brana/firmware';
import type { NodeRedPaths } from './paths.ts';

/** The palette module the gateway always loads (the flows/ workspace). */
export const BRANA_MODULE = 'node-red-contrib-brana';

export interface HostSettings {
  userDir: string;
  editor: { host: string; port: number };
  /** The agent's link socket. */
  link: string;
  /** Node-RED's palette allow list: Brána's nodes and each pinned module at its version. */
  modules: string[];
  /** Lines at this level and above go to the agent (and the journal, rate-limited). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info';
  /** Lines at this level and above go to Node-RED's stdout (the agent's output, systemd's journal). */
  consoleLevel: 'off' | 'fatal' | 'error' | 'warn' | 'info';
  /** Editor page and header title. */
  title: string;
  /** Editor sessions end after this long. */
  sessionExpiryS: number;
}

export interface LaunchPlan {
  settings: HostSettings;
  /** V8 flags for the Node-RED process. */
  nodeArgs: string[];
}

export function launchPlan(config: NodeRedConfig, paths: NodeRedPaths, gatewayName: string): LaunchPlan {
  return {
    settings: {
      userDir: paths.userDir,
      editor: { ...config.editor },
      link: paths.linkSocket,
      modules: [BRANA_MODULE, ...config.modules.map((m) => `${m.name}@${m.version}`)],
      logLevel: 'info',
      consoleLevel: 'warn',
      title: `Brána · ${gatewayName}`.slice(0, 120),
      sessionExpiryS: 8 * 3600,
    },
    nodeArgs: [`--max-old-space-size=${config.maxOldSpaceMb}`],
  };
}
