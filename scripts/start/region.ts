// Brings up the whole simulated region and tears it down: fleet server (admin, service account),
// bench rigs, one gateway per site enrolled with a claim token and configured through a rollout,
// the traffic-controller model and the vehicles. Parts that have not landed are shown as missing.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type Catalogue,
  loadCatalogue,
  loadRigFile,
  type RunningRig,
  realClock,
  scaledClock,
  startRig,
  TrafficControllerModel,
} from '@brana/hardware';
import { RegionCollector } from './collector.ts';
import { buildingConfig, type GatewayConfigDoc, intersectionConfig } from './configs.ts';
import { type DataFolder, openDataFolder } from './data-folder.ts';
import { describeStartFailure, StartError } from './errors.ts';
import { firmwareFor, firmwareSubcommands } from './firmware-commands.ts';
import { FleetApiError, FleetClient } from './fleet-client.ts';
import type { StartOptions } from './options.ts';
import {
  type GatewayOptions,
  loadParts,
  type Parts,
  type RunningFleetServer,
  type RunningGateway,
} from './parts.ts';
import { assertPortFree } from './ports.ts';
import { startRadioPty } from './radio-pty.ts';
import { loadRegionFile, planSites, type RegionFileWithPaths, type SitePlan } from './region-file.ts';
import {
  emptySiteState,
  loadRegionState,
  loadVehicleKeys,
  type RegionState,
  saveRegionState,
} from './region-state.ts';
import type { RegionSnapshot, RolloutRow } from './snapshot.ts';
import { type SimVehicle, VehicleSimulator } from './vehicles.ts';

export interface RegionIo {
  /** Something worth a line in the log (also kept for the view). */
  notice(line: string): void;
  /** The first admin's one-time password: shown once, on the first start only. */
  firstAdmin(username: string, password: string, url: string): void;
}

export interface RegionRunOptions extends StartOptions {
  regionFile?: string;
  /** Ctrl-C while starting: what has started is stopped and startRegion rejects with 'stopped'. */
  signal?: AbortSignal;
  /** How long to wait for each gateway to enrol. */
  enrolTimeoutMs?: number;
}

export interface RunningRegion {
  dataDir: string;
  apiUrl: string | null;
  snapshot(): RegionSnapshot;
  /** Starts one vehicle run now (for tests); null when there is no intersection simulator. */
  vehicles: VehicleSimulator | null;
  stop(): Promise<void>;
}

export const SERVICE_USER = 'region-sim';
export const ADMIN_USER = 'admin';
const GROUP_NAME = 'simulated region';
const POLL_MS = 2000;

export function softwareVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    ) as {
      version?: string;
    };
    return `brana ${pkg.version ?? '0.0.0'}`;
  } catch {
    return 'brana (unknown version)';
  }
}

/** Sorted-key JSON, so the same config always gives the same hash. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function configHash(config: GatewayConfigDoc): string {
  return createHash('sha256').update(stableJson(config)).digest('hex');
}

async function freeUdpPort(host: string): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r, j) => {
    s.once('error', j);
    s.bind(0, host, () => r());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const siteTag = (site: string) => `site-${site}`;

function siteState(state: RegionState, site: string) {
  let s = state.sites[site];
  if (!s) {
    s = emptySiteState();
    state.sites[site] = s;
  }
  return s;
}

interface SiteRuntime {
  plan: SitePlan;
  index: number;
  rig: RunningRig | null;
  gateway: RunningGateway | null;
}

interface GatewayListItem {
  id: string;
  name: string;
  tags: string[];
  online: boolean;
  status: string;
  runningVersion: number | null;
  desiredVersion: number | null;
  applyState: string | null;
  lastSeenAt: number | null;
}

interface RolloutItem {
  id: string;
  configVersion: number;
  target: { kind: string; value: string };
  state: string;
  counts: Record<string, number>;
}

export async function startRegion(o: RegionRunOptions, io: RegionIo): Promise<RunningRegion> {
  const region = loadRegionFile(o.regionFile);
  const plans = planSites(region, o.buildings);
  // Gateways keep the server URL they enrolled with: --port 0 means "the port used before".
  const remembered = peekFleetPort(o.data);
  const port = o.port === 0 && remembered !== null ? remembered : o.port;
  // Ports first: nothing is started or written when one is taken.
  await assertPortFree(o.host, port, 'fleet server', '--port');
  if (o.gatewayPort !== 0) {
    for (let i = 0; i < plans.length; i++) {
      await assertPortFree(
        o.host,
        o.gatewayPort + i,
        `local API of the ${plans[i]!.site} gateway`,
        '--gateway-port',
      );
    }
  }
  const data = openDataFolder(o.data, softwareVersion());
  const collector = new RegionCollector(data.root, o.speed);
  const notice = (line: string) => {
    collector.notice(line);
    io.notice(line);
  };
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  let stopped = false;
  let vehicles: VehicleSimulator | null = null;

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearInterval(t);
    for (const s of stops.reverse()) {
      try {
        await s.stop();
        collector.part(s.name, 'stopped');
      } catch (err) {
        io.notice(`stopping ${s.name}: ${describeStartFailure(err)}`);
      }
    }
    data.release();
  };

  // Checked between the steps of the start, so Ctrl-C during it stops what already runs.
  const step = () => {
    if (o.signal?.aborted) throw new StartError('PART_FAILED', 'stopped while starting');
  };
  try {
    const state = loadRegionState(data.regionState);
    const save = () => saveRegionState(data.regionState, state);
    const parts = await loadParts();
    const catalogue = loadCatalogue();
    const knownProfiles = new Set(catalogue.keys());
    // Asks the firmware binary for its subcommands (spawnSync, seconds on a busy machine): done
    // before the fleet server runs in this process, whose keep-alive sockets a blocked event loop
    // would let go stale and reset under the script's own requests.
    const available = firmwareSubcommands();

    // ---------------------------------------------------------------- fleet server
    collector.part('fleet server', 'starting');
    const validate = parts.validateGatewayConfig;
    const server: RunningFleetServer = await parts.startFleetServer({
      dbPath: data.fleetDb,
      port,
      host: o.host,
      log: {
        info() {},
        warn: (msg) => notice(`fleet: ${msg}`),
        error: (msg) => notice(`fleet error: ${msg}`),
      },
      validateConfig: (doc) => validate(doc, { knownProfiles }),
      console: parts.console.options,
    });
    stops.push({ name: 'fleet server', stop: () => server.close() });
    if (state.fleetPort !== null && state.fleetPort !== server.port) {
      notice(
        `the gateways enrolled with the fleet server on port ${state.fleetPort}; they cannot reach port ${server.port}. Fix: start with --port ${state.fleetPort}`,
      );
    } else if (state.fleetPort === null) {
      state.fleetPort = server.port;
      save();
    }
    collector.part('fleet server', 'running', server.url);
    collector.snap.apiUrl = `${server.url}/api/v1`;
    collector.snap.consoleUrl = await consoleUrl(`${server.url}${parts.console.path}`);
    server.fleet.bus.on('telemetry', (e) => collector.telemetry(e.gatewayId, e.readings, e.events));
    const client = await serviceClient(server, state, save, io);
    step();

    // ---------------------------------------------------------------- sites in the fleet
    const groupId = await ensureGroup(client, state, save);
    for (const p of plans) await ensureSite(client, state, save, p);

    // ---------------------------------------------------------------- bench rigs
    const clock = o.speed === 1 ? realClock : scaledClock(o.speed);
    const runtimes: SiteRuntime[] = [];
    for (const [index, p] of plans.entries()) {
      step();
      const rig = await startSiteRig(p, data, catalogue, clock, o.speed, notice);
      stops.push({ name: `${p.site} rig`, stop: () => rig.stop() });
      collector.part(`${p.site} rig`, 'running');
      runtimes.push({ plan: p, index, rig, gateway: null });
    }

    // ---------------------------------------------------------------- intersection cabinet and radio
    const x = runtimes.find((r) => r.plan.kind === 'intersection')!;
    const radio = await startRadioPty(data.bench(x.plan.rigName)).catch((err: unknown) => {
      notice(`${describeStartFailure(err)}; radio vehicles use UDP`);
      return null;
    });
    if (radio) stops.push({ name: 'radio link', stop: () => radio.stop() });
    const controller = new TrafficControllerModel(x.rig!.wires.bus, {
      approaches: region.intersection.approaches.map((a) => ({
        id: a.id,
        output: `preempt.${a.id}`,
        readback: `readback.${a.id}`,
      })),
      conflicts: region.intersection.conflicts,
      heartbeat: 'heartbeat',
      // Generous for a shared development machine; a cabinet's dead-man is typically 50-100 ms.
      deadmanMs: 500,
      holdMaxMs: 125_000,
    });
    stops.push({ name: 'traffic controller model', stop: async () => controller.close() });
    let seenChanges = 0;
    let seenViolations = 0;
    timers.push(
      setInterval(() => {
        for (; seenChanges < controller.changes.length; seenChanges++)
          collector.contact(controller.changes[seenChanges]!);
        for (; seenViolations < controller.violations.length; seenViolations++) {
          const v = controller.violations[seenViolations]!;
          notice(`SAFETY: controller saw a ${v.kind} violation: ${v.detail}`);
        }
      }, 100),
    );
    if (state.udpPort === null) {
      state.udpPort = await freeUdpPort('127.0.0.1');
      save();
    }
    const keys: SimVehicle[] = loadVehicleKeys(resolve(data.regionState, '..'), region.intersection.vehicles);

    // ---------------------------------------------------------------- configs
    const configs = new Map<string, GatewayConfigDoc>();
    for (const r of runtimes) {
      configs.set(
        r.plan.site,
        r.plan.kind === 'intersection'
          ? intersectionConfig(region, r.plan, r.rig!.endpoints, keys, {
              radioPath: radio?.gatewayPath ?? null,
              radioBaud: 19_200,
              udpPort: state.udpPort,
            })
          : buildingConfig(r.plan, r.rig!.endpoints),
      );
    }
    for (const [site, cfg] of configs) {
      const v = validate(cfg, { knownProfiles });
      if (!v.ok) {
        const e = v.errors[0]!;
        throw new StartError(
          'REGION_INVALID',
          `the generated config of ${site} is invalid: ${e.path}: ${e.message} (fix: ${e.fix}). Fix: correct scripts/region or scripts/start/configs.ts`,
        );
      }
    }

    // ---------------------------------------------------------------- gateways
    for (const r of runtimes) {
      collector.gateway({
        site: r.plan.site,
        kind: r.plan.kind === 'intersection' ? 'intersection' : 'building',
        state: 'starting',
        gatewayId: state.sites[r.plan.site]?.gatewayId ?? null,
        runningVersion: null,
        desiredVersion: state.sites[r.plan.site]?.configVersion ?? null,
        readingsPerS: 0,
      });
    }
    for (const r of runtimes) {
      const site = r.plan.site;
      step();
      const claimToken = await ensureClaimToken(client, state, save, r.plan, groupId);
      collector.gateway({ ...collector.gatewayRow(site)!, state: claimToken ? 'enrolling' : 'starting' });
      const dir = data.gateway(site);
      const firmware = firmwareFor(configs.get(site)!, available, dir);
      for (const m of firmware.missing)
        notice(`${site}: ${m} is not available yet; the gateway runs without it`);
      try {
        const gw = await parts.startGateway({
          dataDir: dir,
          serverUrl: server.url,
          ...(claimToken ? { claimToken } : {}),
          localApiPort: o.gatewayPort === 0 ? 0 : o.gatewayPort + r.index,
          localApiHost: o.host,
          firmware: {
            ...(firmware.rt ? { rt: firmware.rt } : {}),
            ...(firmware.fieldbus ? { fieldbus: firmware.fieldbus } : {}),
            supervise: true,
            // Through the notices, so that firmware lines never print over the live view.
            output: (name, line) => notice(`${site} ${name}: ${line}`),
          },
          trialS: o.trialS,
          validateConfig: gatewayValidator(validate, knownProfiles),
          log: (level, message) => {
            if (level !== 'info') notice(`${site} gateway: ${message}`);
          },
        });
        r.gateway = gw;
        stops.push({ name: `${site} gateway`, stop: () => gw.close() });
        collector.part(`${site} gateway`, 'running', gw.localApiUrl);
      } catch (err) {
        collector.gateway({
          ...collector.gatewayRow(site)!,
          state: 'failed',
          detail: describeStartFailure(err),
        });
        notice(`${site} gateway did not start: ${describeStartFailure(err)}`);
      }
    }
    step();
    await waitForEnrolment(client, state, save, runtimes, o.enrolTimeoutMs ?? 30_000, notice, o.signal);
    for (const r of runtimes) {
      if (!r.gateway) continue;
      step();
      await rollOutIfChanged(client, state, save, r.plan, configs.get(r.plan.site)!, notice);
    }

    // ---------------------------------------------------------------- vehicles and the SOS button
    {
      let seed = o.seed >>> 0 || 1;
      const random = () => {
        // xorshift32: repeatable runs for a given --seed
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const sim = new VehicleSimulator({
        intersection: region.intersection,
        vehicles: keys,
        udpPort: state.udpPort,
        radioPath: radio?.vehiclePath ?? null,
        everyS: { ambulance: o.ambulanceEveryS, bus: o.busEveryS, forged: o.forgedEveryS },
        random,
        onRun: (run) => {
          collector.run(run);
          io.notice(
            run.kind === 'forged'
              ? `forged request (${run.forgery}) on ${run.approach}`
              : `${run.kind} ${run.vehicle} approaching from ${run.approach}`,
          );
        },
        onProblem: notice,
      });
      step();
      await sim.start();
      vehicles = sim;
      stops.push({ name: 'vehicle simulator', stop: () => sim.stop() });
      collector.part('vehicle simulator', 'running');
      // A resident pulls the SOS cord now and then and lets go after a few seconds; the care
      // home's rt process raises the alarm and lights the alarm relay for its hold time.
      for (const r of runtimes) {
        if (r.plan.kind !== 'care-home' || !r.rig) continue;
        const bus = r.rig.wires.bus;
        const site = r.plan.site;
        timers.push(
          setInterval(
            () => {
              io.notice(`${site}: SOS cord pulled`);
              bus
                .set('sos.button', 1)
                .then(() => {
                  const release = setTimeout(() => void bus.set('sos.button', 0).catch(() => {}), 3000);
                  release.unref();
                })
                .catch(() => {});
            },
            (o.sosEveryS ?? 180) * 1000,
          ),
        );
      }
    }

    // ---------------------------------------------------------------- state polling for the view
    const poll = async () => {
      for (const r of runtimes) {
        const row = collector.gatewayRow(r.plan.site);
        if (r.gateway && row) row.firmware = describeFirmware(r.gateway.status().firmware);
      }
      try {
        await refresh(client, collector, plans);
      } catch (err) {
        if (!stopped) collector.notice(`fleet API: ${describeStartFailure(err)}`);
      }
    };
    await poll();
    timers.push(setInterval(() => void poll(), POLL_MS));

    return {
      dataDir: data.root,
      apiUrl: collector.snap.apiUrl,
      snapshot: () => collector.snapshot(),
      vehicles,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** "rt running", "fieldbus backoff ×3": what the agent's supervisor says of each process. */
export function describeFirmware(status: ReturnType<RunningGateway['status']>['firmware']): string {
  if (status === 'systemd') return 'systemd';
  if (status.length === 0) return 'none';
  return status.map((p) => `${p.name} ${p.state}${p.restarts > 0 ? ` ×${p.restarts}` : ''}`).join(', ');
}

/** The firmware's validator with the catalogue's profile ids, in the shape the agent takes. */
function gatewayValidator(
  validate: NonNullable<Parts['validateGatewayConfig']>,
  knownProfiles: ReadonlySet<string>,
): NonNullable<GatewayOptions['validateConfig']> {
  return (config) =>
    validate(config, { knownProfiles }) as ReturnType<NonNullable<GatewayOptions['validateConfig']>>;
}

/** The fleet port an earlier start used, read before the data folder is opened (and locked). */
function peekFleetPort(dataDir: string): number | null {
  try {
    const s = JSON.parse(readFileSync(resolve(dataDir, 'region', 'state.json'), 'utf8')) as {
      fleetPort?: unknown;
    };
    return typeof s.fleetPort === 'number' ? s.fleetPort : null;
  } catch {
    return null;
  }
}

/** The console's address if it answers (a redirect to its login page counts). */
async function consoleUrl(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status < 400 ? url : null;
  } catch {
    return null;
  }
}

/** The first admin (password printed once), and the service account this script acts as. */
async function serviceClient(
  server: RunningFleetServer,
  state: RegionState,
  save: () => void,
  io: RegionIo,
): Promise<FleetClient> {
  if (!state.adminCreated) {
    try {
      const admin = await server.createAdmin(ADMIN_USER);
      io.firstAdmin(ADMIN_USER, admin.password, server.url);
    } catch (err) {
      io.notice(
        `admin user not created (${describeStartFailure(err)}); use the password from the first start`,
      );
    }
    state.adminCreated = true;
    save();
  }
  const client = new FleetClient(server.url);
  if (state.serviceToken) {
    client.useToken(state.serviceToken);
    try {
      await client.get('/api/v1/auth/me');
      return client;
    } catch (err) {
      if (!(err instanceof FleetApiError) || err.status !== 401) throw err;
      io.notice('the saved service token was refused; making a new one');
    }
  }
  // A user of its own, so what this script does shows as "region-sim" in the audit log.
  const username =
    state.serviceUser === null ? SERVICE_USER : `${SERVICE_USER}-${randomBytes(3).toString('hex')}`;
  const user = await server.createUser(username, 'fleetOperator');
  const login = new FleetClient(server.url);
  await login.login(username, user.password);
  const token = await login.post<{ token: string }>('/api/v1/tokens', { name: 'npm start' });
  state.serviceUser = username;
  state.serviceToken = token.token;
  save();
  client.useToken(token.token);
  return client;
}

async function ensureGroup(client: FleetClient, state: RegionState, save: () => void): Promise<string> {
  if (state.groupId) return state.groupId;
  const groups = await client.get<{ id: string; name: string }[]>('/api/v1/groups');
  const found = groups.find((g) => g.name === GROUP_NAME);
  const id =
    found?.id ??
    (
      await client.post<{ id: string }>('/api/v1/groups', {
        name: GROUP_NAME,
        description: 'Sites brought up by npm start',
      })
    ).id;
  state.groupId = id;
  save();
  return id;
}

async function ensureSite(
  client: FleetClient,
  state: RegionState,
  save: () => void,
  p: SitePlan,
): Promise<void> {
  const s = siteState(state, p.site);
  if (s.siteId) return;
  const sites = await client.get<{ id: string; name: string }[]>('/api/v1/sites');
  const found = sites.find((x) => x.name === p.name);
  s.siteId =
    found?.id ??
    (
      await client.post<{ id: string }>('/api/v1/sites', {
        name: p.name,
        kind: p.kind === 'intersection' ? 'intersection' : 'building',
      })
    ).id;
  save();
}

/** A claim token for a site whose gateway has not enrolled yet (kept until it has). */
async function ensureClaimToken(
  client: FleetClient,
  state: RegionState,
  save: () => void,
  p: SitePlan,
  groupId: string | null,
): Promise<string | null> {
  const s = siteState(state, p.site);
  if (s.gatewayId) return null;
  if (s.claimToken) return s.claimToken;
  const created = await client.post<{ token: string }>('/api/v1/claim-tokens', {
    gatewayName: p.name,
    ...(s.siteId ? { siteId: s.siteId } : {}),
    ...(groupId ? { groupId } : {}),
    tags: [siteTag(p.site), p.kind === 'intersection' ? 'intersection' : 'building'],
    expiresInHours: 24,
  });
  s.claimToken = created.token;
  save();
  return created.token;
}

async function gatewaysByTag(client: FleetClient): Promise<Map<string, GatewayListItem>> {
  const list = await client.get<GatewayListItem[]>('/api/v1/gateways');
  const out = new Map<string, GatewayListItem>();
  for (const g of list) {
    if (g.status === 'revoked') continue;
    for (const t of g.tags) if (t.startsWith('site-')) out.set(t.slice(5), g);
  }
  return out;
}

async function waitForEnrolment(
  client: FleetClient,
  state: RegionState,
  save: () => void,
  runtimes: SiteRuntime[],
  timeoutMs: number,
  notice: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) return;
    const bySite = await gatewaysByTag(client);
    let waiting = 0;
    for (const r of runtimes) {
      const s = state.sites[r.plan.site]!;
      const g = bySite.get(r.plan.site);
      if (g && s.gatewayId !== g.id) {
        s.gatewayId = g.id;
        s.claimToken = null;
        save();
        notice(`${r.plan.site} gateway enrolled as ${g.id}`);
      }
      if (r.gateway && !s.gatewayId) waiting++;
    }
    if (waiting === 0) return;
    if (Date.now() > deadline) {
      notice(
        `${waiting} gateway(s) did not enrol within ${Math.round(timeoutMs / 1000)} s; they keep trying`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A new config version and a rollout to the site's gateway, only when the config changed. */
async function rollOutIfChanged(
  client: FleetClient,
  state: RegionState,
  save: () => void,
  p: SitePlan,
  config: GatewayConfigDoc,
  notice: (line: string) => void,
): Promise<void> {
  const s = state.sites[p.site]!;
  if (!s.gatewayId) return;
  const hash = configHash(config);
  if (s.configHash === hash && s.configVersion !== null) return;
  if (s.rolloutId) {
    const prev = await client.get<RolloutItem>(`/api/v1/rollouts/${s.rolloutId}`).catch(() => null);
    if (prev && (prev.state === 'running' || prev.state === 'paused')) {
      await client.post(`/api/v1/rollouts/${s.rolloutId}/abort`, {});
    }
  }
  const doc = await client.post<{ version: number }>('/api/v1/configs', {
    config,
    comment: `npm start: ${p.site}`,
  });
  const rollout = await client.post<{ id: string }>('/api/v1/rollouts', {
    configVersion: doc.version,
    target: { tag: siteTag(p.site) },
    stages: [100],
  });
  s.configHash = hash;
  s.configVersion = doc.version;
  s.rolloutId = rollout.id;
  save();
  notice(`config v${doc.version} rolling out to ${p.site}`);
}

async function refresh(client: FleetClient, collector: RegionCollector, plans: SitePlan[]): Promise<void> {
  const [bySite, rollouts] = await Promise.all([
    gatewaysByTag(client),
    client.get<RolloutItem[]>('/api/v1/rollouts'),
  ]);
  for (const p of plans) {
    const row = collector.gatewayRow(p.site);
    if (!row || row.state === 'missing' || row.state === 'failed') continue;
    const g = bySite.get(p.site);
    if (!g) continue;
    collector.gateway({
      ...row,
      gatewayId: g.id,
      state: g.online ? 'online' : 'offline',
      runningVersion: g.runningVersion,
      desiredVersion: g.desiredVersion,
      ...(g.applyState && g.applyState !== 'applied' ? { detail: g.applyState } : { detail: undefined }),
    });
  }
  const siteOfTag = new Map(plans.map((p) => [siteTag(p.site), p.site]));
  const rows: RolloutRow[] = rollouts
    .filter((r) => r.target.kind === 'tag' && siteOfTag.has(r.target.value))
    .slice(0, 8)
    .reverse()
    .map((r) => ({
      id: r.id,
      site: siteOfTag.get(r.target.value)!,
      configVersion: r.configVersion,
      state: r.state,
      applied: r.counts.applied ?? 0,
      total: Object.values(r.counts).reduce((a, b) => a + b, 0),
    }));
  collector.rollouts(rows);
}

async function startSiteRig(
  p: SitePlan,
  data: DataFolder,
  catalogue: Catalogue,
  clock: ReturnType<typeof scaledClock>,
  speed: number,
  notice: (line: string) => void,
): Promise<RunningRig> {
  const rig = loadRigFile(p.rigFile, catalogue);
  return startRig(
    { ...rig, name: p.rigName, seed: (rig.seed ?? 1) + p.seedOffset },
    {
      dir: data.bench(p.rigName),
      catalogue,
      clock,
      speed,
      onProblem: (message) => notice(`${p.site} rig: ${message}`),
    },
  );
}

export type { Parts, RegionFileWithPaths };
