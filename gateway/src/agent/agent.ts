// startGateway: the agent assembled from its parts, each made with what it needs. The IPC server
// commits what the firmware sends to the journal (then acks) and shows it to the firmware trial and
// the local API; the fleet link uploads the journal and hands desired configs to the applier; the
// applier puts a config into effect through its targets (the firmware, Node-RED), trials it, and
// commits or rolls back; the Node-RED host's events go to the journal like the firmware's.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createIpcServer, RealClock, type SequencedRecord, validateGatewayConfig } from '@brana/firmware';
import { ConfigApplier, type ConfigValidator } from '../apply/index.ts';
import { AGENT_VERSION, enrol, FleetLink, type Identity, loadIdentity } from '../fleet/index.ts';
import { Journal } from '../journal/index.ts';
import { type LocalApi, startLocalApi } from '../local-api/index.ts';
import { NodeRedHost, nodeRedPaths } from '../node-red/index.ts';
import { type FirmwareCommand, type FirmwareName, Supervisor } from '../supervisor/index.ts';
import { FirmwareTarget } from './firmware-target.ts';
import { Lifetime } from './lifetime.ts';
import type { GatewayOptions, GatewayStatus, LogFn } from './options.ts';

export interface Gateway {
  localApiUrl: string;
  localApi: LocalApi;
  socketPath: string;
  journal: Journal;
  applier: ConfigApplier;
  link: FleetLink | undefined;
  supervisor: Supervisor | undefined;
  nodeRed: NodeRedHost;
  status(): GatewayStatus;
  close(): Promise<void>;
}

/** The firmware's own gateway config schema: the same check the fleet server made before signing. */
export function defaultConfigValidator(): ConfigValidator {
  return (config) => validateGatewayConfig(config);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? new RealClock();
  const log: LogFn = options.log ?? ((level, m) => console.error(`[brana-gateway] ${level}: ${m}`));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const socketPath = options.socketPath ?? join(options.dataDir, 'agent.sock');
  const life = new Lifetime(log);
  try {
    // Set once the fleet link exists; what the journal writes before that waits there.
    let link: FleetLink | undefined;
    let api: LocalApi | undefined;
    const journal = life.own(
      openJournal(options, clock, () => link?.nudge(), log),
      (j) => j.close(),
    );
    const identity = await loadOrEnrol(options, log);

    const supervisor = makeSupervisor(options, socketPath, clock, log);
    if (supervisor) life.own(supervisor, (s) => s.stop());
    const ipcCounters = { invalidRecords: 0, protocolErrors: 0, commitErrors: 0 };
    let firmware: FirmwareTarget | undefined;
    const onBatch = async (records: SequencedRecord[]) => {
      // Taken now, written with the next group; the IPC ack waits for the write.
      const { written } = journal.submit(records);
      firmware?.observe(records);
      await written;
      // Committed: on to history, relay states and the flows' stream (repeats are left out there).
      api?.publish(records);
    };
    const ipc = life.own(
      await createIpcServer({
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
      }),
      (s) => s.close(),
    );
    firmware = new FirmwareTarget({
      supervisor,
      ipc,
      clock,
      ...(options.firmware.restartCommand ? { restartCommand: options.firmware.restartCommand } : {}),
      ...(options.firmware.expectSources ? { expectSources: options.firmware.expectSources } : {}),
      log,
    });

    const { readyTimeoutMs, npmCommand, ...nodeRedProcess } = options.nodeRed ?? { supervise: true };
    const nodeRed = life.own(
      new NodeRedHost({
        dataDir: options.dataDir,
        clock,
        // Node-RED's events reach the fleet like the firmware's (source agent, event class quotas).
        emit: (e) => journal.note(e.type, e.data, e.severity),
        log,
        process: nodeRedProcess,
        // The local API contract: node-red-contrib-brana's gateway config node defaults to these.
        env: () => ({
          BRANA_LOCAL_API_SOCKET: api?.socketPath ?? join(options.dataDir, 'local-api.sock'),
          BRANA_LOCAL_API_TOKEN_FILE: nodeRedPaths(options.dataDir).localApiTokenFile,
        }),
        ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
        ...(npmCommand === undefined ? {} : { npmCommand }),
      }),
      (h) => h.close(),
    );
    await nodeRed.start();

    const applier = new ConfigApplier({
      dataDir: options.dataDir,
      serverPublicKey: identity.enrolment?.serverPublicKey ?? '',
      validate: options.validateConfig ?? defaultConfigValidator(),
      targets: [firmware, nodeRed],
      trialMs: (options.trialS ?? 30) * 1000,
      report: (r) => link?.report(r),
      log,
    });
    applier.restoreActive();

    const status = (): GatewayStatus => ({
      agentVersion: AGENT_VERSION,
      gatewayId: identity.enrolment?.gatewayId,
      fleet: link ? link.stats() : { state: 'not-enrolled' },
      firmware: supervisor ? supervisor.status() : 'systemd',
      ipc: { connections: ipc.connections(), ...ipcCounters },
      config: applier.status(),
      journal: journal.stats(),
      nodeRed: nodeRed.status(),
    });
    api = life.own(
      await startLocalApi({
        dataDir: options.dataDir,
        tcp: { port: options.localApiPort, ...(options.localApiHost ? { host: options.localApiHost } : {}) },
        sources: { status, journal: () => journal.stats(), config: () => applier.status() },
        runningConfigPath: () => applier.activeConfigPath(),
        // Operator alarms are safety events: the journal writes them at once.
        commit: (records) => journal.append(records),
        // Relay switches from flows go to rt, which alone decides (CONTRACTS.md, IPC commands).
        relay: (request) => ipc.command('rt', request),
        log,
      }),
      (a) => a.close(),
    );
    // Node-RED's own local API token, new at every start (only its hash is kept), before it starts.
    api.issueTokenFile(nodeRedPaths(options.dataDir).localApiTokenFile, 'node-red', [
      'read',
      'relay',
      'alarm',
    ]);

    await applier.startTargets().catch((err: Error) => {
      // The gateway keeps running (journal, fleet link) so that a better config can reach it.
      log('error', `the committed config did not start fully: ${err.message}`);
    });
    link = startFleetLink(identity, journal, applier, clock, options, log);
    if (link) life.own(link, (l) => l.stop());

    return {
      localApiUrl: api.url ?? '',
      localApi: api,
      socketPath,
      journal,
      applier,
      link,
      supervisor,
      nodeRed,
      status,
      close: () => life.close(),
    };
  } catch (err) {
    await life.close();
    throw err;
  }
}

function openJournal(
  options: GatewayOptions,
  clock: GatewayClock,
  onWritten: () => void,
  log: LogFn,
): Journal {
  const journal = Journal.open({
    path: join(options.dataDir, 'journal.db'),
    quotaBytes: (options.journalQuotaMB ?? 512) * 1024 * 1024,
    quarantineCorrupt: true,
    clock,
    ...(options.journalFlushS === undefined ? {} : { flushIntervalMs: options.journalFlushS * 1000 }),
    // What the journal numbered as it wrote it goes out at once.
    onWritten,
    log,
  });
  if (journal.quarantinedFrom) {
    log('error', `journal was damaged; moved to ${journal.quarantinedFrom} and started a new one`);
  }
  return journal;
}

async function loadOrEnrol(options: GatewayOptions, log: LogFn): Promise<Identity> {
  const identity = loadIdentity(options.dataDir);
  if (identity.enrolment || !options.claimToken || !options.serverUrl) return identity;
  await enrol({ dataDir: options.dataDir, serverUrl: options.serverUrl, claimToken: options.claimToken });
  const enrolled = loadIdentity(options.dataDir);
  log('info', `enrolled as ${enrolled.enrolment?.gatewayId}`);
  return enrolled;
}

function makeSupervisor(
  options: GatewayOptions,
  socketPath: string,
  clock: GatewayClock,
  log: LogFn,
): Supervisor | undefined {
  if (!(options.firmware.supervise ?? true)) return undefined;
  const processes: Partial<Record<FirmwareName, FirmwareCommand>> = {};
  if (options.firmware.rt) processes.rt = options.firmware.rt;
  if (options.firmware.fieldbus) processes.fieldbus = options.firmware.fieldbus;
  return new Supervisor({
    processes,
    socketPath,
    clock,
    log,
    ...(options.firmware.output ? { output: options.firmware.output } : {}),
  });
}

type GatewayClock = NonNullable<GatewayOptions['clock']>;

function startFleetLink(
  identity: Identity,
  journal: Journal,
  applier: ConfigApplier,
  clock: GatewayClock,
  options: GatewayOptions,
  log: LogFn,
): FleetLink | undefined {
  if (!identity.enrolment) {
    log(
      'warn',
      'not enrolled: readings are journalled but not uploaded. Fix: run `brana-gateway enrol --server <url> --token <claim>`',
    );
    return undefined;
  }
  const link = new FleetLink({
    identity,
    journal,
    clock,
    running: () => applier.running(),
    onDesired: (doc) => applier.desired(doc),
    ...(options.upload ?? {}),
    log,
  });
  link.start();
  return link;
}
