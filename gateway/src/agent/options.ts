// What startGateway is given (from the agent config file, a test or `npm start`) and what its
// status says. The gateway config itself (buses, preemption, flows) is not here: it arrives signed.
import type { Clock, IpcServer } from '@brana/firmware';
import type { ApplierStatus, ConfigValidator } from '../apply/index.ts';
import { GatewayConfigError } from '../errors.ts';
import type { FleetLink } from '../fleet/index.ts';
import type { JournalStats } from '../journal/index.ts';
import type { NodeRedProcessMode, NodeRedStatus } from '../node-red/index.ts';
import type { FirmwareCommand, FirmwareName, FirmwareProcessStatus } from '../supervisor/index.ts';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface GatewayOptions {
  dataDir: string;
  /** Fleet server base URL; without it (and without an enrolment) the gateway runs offline. */
  serverUrl?: string;
  /** Enrols on first start when the gateway is not enrolled yet. */
  claimToken?: string;
  firmware: {
    rt?: FirmwareCommand;
    fieldbus?: FirmwareCommand;
    /** Start the firmware processes from the agent (dev, bench). False on a Pi: systemd does it. */
    supervise?: boolean;
    /** Without supervision: run to restart the firmware for a config trial (systemctl restart …). */
    restartCommand?: FirmwareCommand;
    /** Without supervision: the firmware sources that must connect during a trial. */
    expectSources?: FirmwareName[];
    /** Supervised firmware output, a line at a time (default: this process's stdout and stderr). */
    output?: (name: FirmwareName, line: string) => void;
  };
  /**
   * How Node-RED runs when a config enables it: the agent's child (default) or a systemd unit
   * (`{ supervise: false, restartCommand, stopCommand }` on a Pi).
   */
  nodeRed?: NodeRedProcessMode & {
    /** How long Node-RED may take to start (default 60 s). */
    readyTimeoutMs?: number;
    /** npm for installing pinned modules from the gateway's cache (default "npm"). */
    npmCommand?: string;
  };
  /** 0 picks a free port. */
  localApiPort: number;
  localApiHost?: string;
  /** Default <dataDir>/agent.sock. */
  socketPath?: string;
  journalQuotaMB?: number;
  /**
   * Most a reading waits in memory before the journal writes it (default 10 s): fewer, larger
   * writes spare the SD card; it is also what a power cut can lose of readings (gateway/README.md, "Wear").
   */
  journalFlushS?: number;
  /** Trial period after a config restart (default 30 s). */
  trialS?: number;
  /** Default: @brana/firmware's validateGatewayConfig. */
  validateConfig?: ConfigValidator;
  clock?: Clock;
  upload?: {
    batchSize?: number;
    backlogPerS?: number;
    tickMs?: number;
    reconnectMinMs?: number;
    reconnectMaxMs?: number;
  };
  log?: LogFn;
}

export interface GatewayStatus {
  agentVersion: string;
  gatewayId: string | undefined;
  fleet: ReturnType<FleetLink['stats']> | { state: 'not-enrolled' };
  firmware: FirmwareProcessStatus[] | 'systemd';
  ipc: {
    connections: ReturnType<IpcServer['connections']>;
    invalidRecords: number;
    protocolErrors: number;
    commitErrors: number;
  };
  config: ApplierStatus;
  journal: JournalStats;
  nodeRed: NodeRedStatus;
}

/** Checks the parts of GatewayOptions a person types (CLI, YAML). */
export function checkGatewayOptions(o: GatewayOptions): void {
  if (!o.dataDir)
    throw new GatewayConfigError(
      'dataDir',
      'is empty',
      'set dataDir to a writable directory, e.g. /var/lib/brana',
    );
  if (!Number.isInteger(o.localApiPort) || o.localApiPort < 0 || o.localApiPort > 65535) {
    throw new GatewayConfigError(
      'localApi.port',
      `${o.localApiPort} is not a TCP port`,
      'use 0..65535 (default 8181)',
    );
  }
}
