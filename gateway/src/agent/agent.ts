// startGateway: the agent wired together. IPC server → journal (commit, then ack) → fleet link
// (upload, reconcile) → config applier (verify, validate, stage, restart firmware, trial, commit
// or roll back), the supervisor for bench/dev firmware processes, and the local API.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Clock,
  createIpcServer,
  type IpcServer,
  RealClock,
  type SequencedRecord,
  validateGatewayConfig,
} from '@brana/firmware';
import {
  type ConfigApplier as Applier,
  ConfigApplier,
  type ConfigValidator,
  type TrialResult,
} from '../apply/index.ts';
import { GatewayConfigError } from '../errors.ts';
import { AGENT_VERSION, enrol, FleetLink, loadIdentity } from '../fleet/index.ts';
import { Journal } from '../journal/index.ts';
import { type LocalApi, type RelayCommand, startLocalApi } from '../local-api/index.ts';
import { type FirmwareCommand, type FirmwareName, Supervisor } from '../supervisor/index.ts';

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

export interface Gateway {
  localApiUrl: string;
  localApi: LocalApi;
  socketPath: string;
  journal: Journal;
  applier: Applier;
  link: FleetLink | undefined;
  supervisor: Supervisor | undefined;
  status(): GatewayStatus;
  close(): Promise<void>;
}

export interface GatewayStatus {
  agentVersion: string;
  gatewayId: string | undefined;
  fleet: ReturnType<FleetLink['stats']> | { state: 'not-enrolled' };
  firmware: ReturnType<Supervisor['status']> | 'systemd';
  ipc: {
    connections: ReturnType<IpcServer['connections']>;
    invalidRecords: number;
    protocolErrors: number;
    commitErrors: number;
  };
  config: ReturnType<Applier['status']>;
  journal: ReturnType<Journal['stats']>;
}

/** Event types that fail a config trial when a firmware process sends them during it. */
const TRIAL_FAILING_EVENTS = new Set([
  'preemption.fault',
  'selftest.failed',
  'relay.readback-mismatch',
  'fault',
]);

/** The firmware's own gateway config schema: the same check the fleet server made before signing. */
export function defaultConfigValidator(): ConfigValidator {
  return (config) => validateGatewayConfig(config);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? new RealClock();
  const log: LogFn = options.log ?? ((level, m) => console.error(`[brana-gateway] ${level}: ${m}`));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const socketPath = options.socketPath ?? join(options.dataDir, 'agent.sock');
  const cleanup: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of cleanup.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log('warn', `while closing: ${(err as Error).message}`);
      }
    }
  };

  try {
    let link: FleetLink | undefined;
    const journal = Journal.open({
      path: join(options.dataDir, 'journal.db'),
      quotaBytes: (options.journalQuotaMB ?? 512) * 1024 * 1024,
      quarantineCorrupt: true,
      clock,
      ...(options.journalFlushS === undefined ? {} : { flushIntervalMs: options.journalFlushS * 1000 }),
      // What the journal numbered as it wrote it goes out at once.
      onWritten: () => link?.nudge(),
      log,
    });
    cleanup.push(() => journal.close());
    if (journal.quarantinedFrom) {
      log('error', `journal was damaged; moved to ${journal.quarantinedFrom} and started a new one`);
    }

    let identity = loadIdentity(options.dataDir);
    if (!identity.enrolment && options.claimToken && options.serverUrl) {
      await enrol({ dataDir: options.dataDir, serverUrl: options.serverUrl, claimToken: options.claimToken });
      identity = loadIdentity(options.dataDir);
      log('info', `enrolled as ${identity.enrolment?.gatewayId}`);
    }

    const supervise = options.firmware.supervise ?? true;
    const processes: Partial<Record<FirmwareName, FirmwareCommand>> = {};
    if (options.firmware.rt) processes.rt = options.firmware.rt;
    if (options.firmware.fieldbus) processes.fieldbus = options.firmware.fieldbus;
    const supervisor = supervise
      ? new Supervisor({
          processes,
          socketPath,
          clock,
          log,
          ...(options.firmware.output ? { output: options.firmware.output } : {}),
        })
      : undefined;
    if (supervisor) cleanup.push(() => supervisor.stop());

    // Trial bookkeeping: events that fail it, and which firmware processes connected.
    let trialFaults: string[] | undefined;
    const ipcCounters = { invalidRecords: 0, protocolErrors: 0, commitErrors: 0 };
    let api: LocalApi | undefined;

    const onBatch = async (records: SequencedRecord[]) => {
      // Taken now, written with the next group; the IPC ack waits for the write.
      const { written } = journal.submit(records);
      for (const r of records) {
        if (trialFaults && r.record.kind === 'event' && TRIAL_FAILING_EVENTS.has(r.record.type)) {
          trialFaults.push(
            `${r.source} sent ${r.record.type} ${JSON.stringify(r.record.data).slice(0, 200)}`,
          );
        }
        if (
          trialFaults &&
          r.record.kind === 'event' &&
          r.record.type === 'device.status' &&
          r.record.data.state === 'offline'
        ) {
          trialFaults.push(`${r.source}: device ${String(r.record.data.device)} is offline`);
        }
      }
      await written;
      // Committed: on to history, relay states and the flows' stream (repeats are left out there).
      api?.publish(records);
    };
    const ipc = await createIpcServer({
      socketPath,
      onBatch,
      onInvalidRecord: (err, at) => {
        ipcCounters.invalidRecords++;
        log('warn', `${at.source} record ${at.seq}: ${err.message}`);
      },
      onProtocolError: (err, peer) => {
        ipcCounters.protocolErrors++;
        log('warn', `IPC ${peer.source ?? 'unknown peer'}: ${err.message}`);
      },
      onCommitError: (err) => {
        ipcCounters.commitErrors++;
        log('error', (err as Error).message);
      },
    });
    cleanup.push(() => ipc.close());
    // Relay switches from flows go to rt, which alone decides (CONTRACTS.md, IPC commands).
    const relayCommand: RelayCommand = async () => ({
      id: 0,
      ok: false,
      code: 'not-ready',
      message: 'this agent does not pass relay commands to rt yet; update the gateway software',
    });

    const trialMs = (options.trialS ?? 30) * 1000;
    // Slow boards (and busy test machines) take a while to start Node processes: the trial waits up
    // to this long for every firmware process to connect, then watches it for the trial period.
    const connectTimeoutMs = Math.max(trialMs, 20_000);
    let restartedAtMs = 0;
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
    const firmware = {
      restart: async (configPath: string | null) => {
        restartedAtMs = clock.nowMs();
        trialFaults = [];
        if (supervisor) {
          await supervisor.restart(configPath);
          supervisor.takeExits();
        } else if (options.firmware.restartCommand) {
          await runCommand(options.firmware.restartCommand);
        } else {
          log('info', `config ${configPath ?? '(none)'} is active; restart the firmware to use it`);
        }
      },
      trial: async (ms: number): Promise<TrialResult> => {
        const problems: string[] = [];
        const names = supervisor ? supervisor.names() : (options.firmware.expectSources ?? []);
        if (names.length > 0) {
          const missing = () => {
            const fresh = new Set(
              ipc
                .connections()
                .filter((c) => c.connectedAtMs >= restartedAtMs && c.source !== undefined)
                .map((c) => c.source),
            );
            return names.filter((n) => !fresh.has(n));
          };
          const deadline = clock.monotonicMs() + connectTimeoutMs;
          while (missing().length > 0 && clock.monotonicMs() < deadline && supervisorHealthy())
            await sleep(50);
          for (const name of missing()) problems.push(`${name} did not connect to the agent`);
        }
        if (problems.length === 0) await sleep(ms);
        const faults = trialFaults ?? [];
        trialFaults = undefined;
        problems.push(...faults);
        if (supervisor) {
          for (const [name, exits] of Object.entries(supervisor.takeExits())) {
            if (exits > 0) problems.push(`${name} exited ${exits} time(s) during the trial`);
          }
        }
        return problems.length === 0 ? { ok: true } : { ok: false, detail: problems.join('; ') };
      },
    };
    /** A process that already crashed during the trial need not be waited for. */
    function supervisorHealthy(): boolean {
      return !supervisor?.status().some((p) => p.state === 'backoff');
    }

    const applier = new ConfigApplier({
      dataDir: options.dataDir,
      serverPublicKey: identity.enrolment?.serverPublicKey ?? '',
      validate: options.validateConfig ?? defaultConfigValidator(),
      firmware,
      trialMs,
      report: (r) => link?.report(r),
      log,
    });
    applier.restoreActive();
    if (supervisor) await supervisor.restart(applier.activeConfigPath());

    if (identity.enrolment) {
      link = new FleetLink({
        identity,
        journal,
        clock,
        running: () => applier.running(),
        onDesired: (doc) => applier.desired(doc),
        ...(options.upload ?? {}),
        log,
      });
      link.start();
      const l = link;
      cleanup.push(() => l.stop());
    } else {
      log(
        'warn',
        'not enrolled: readings are journalled but not uploaded. Fix: run `brana-gateway enrol --server <url> --token <claim>`',
      );
    }

    const status = (): GatewayStatus => ({
      agentVersion: AGENT_VERSION,
      gatewayId: identity.enrolment?.gatewayId,
      fleet: link ? link.stats() : { state: 'not-enrolled' },
      firmware: supervisor ? supervisor.status() : 'systemd',
      ipc: { connections: ipc.connections(), ...ipcCounters },
      config: applier.status(),
      journal: journal.stats(),
    });
    api = await startLocalApi({
      dataDir: options.dataDir,
      tcp: { port: options.localApiPort, ...(options.localApiHost ? { host: options.localApiHost } : {}) },
      sources: { status, journal: () => journal.stats(), config: () => applier.status() },
      runningConfigPath: () => applier.activeConfigPath(),
      // Operator alarms are safety events: the journal writes them at once.
      commit: (records) => journal.append(records),
      relay: relayCommand,
      log,
    });
    const a = api;
    cleanup.push(() => a.close());

    return {
      localApiUrl: api.url ?? '',
      localApi: api,
      socketPath,
      journal,
      applier,
      link,
      supervisor,
      status,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
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

/** Runs a restart command to its end; a non-zero exit fails the restart step (and rolls back). */
function runCommand(cmd: FirmwareCommand): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { stdio: 'inherit', env: { ...process.env, ...cmd.env } });
    child.on('error', (err) =>
      reject(new Error(`restart command ${cmd.command} could not start (${err.message})`)),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`restart command ${cmd.command} ${cmd.args.join(' ')} exited with ${code}`)),
    );
  });
}
