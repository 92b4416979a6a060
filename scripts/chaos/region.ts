// The region of a chaos run: npm start's sites (same region file, rigs and gateway configs), but
// every part that chaos kills is its own OS process, run the way systemd runs it on a Pi: the fleet
// server, and per gateway the agent (firmware.supervise false) and its rt and fieldbus processes.
// Gateways reach the fleet through the fault proxy, keep their data on a small disk of their own
// and read the wall clock through libfaketime. The bench rigs, the traffic-controller model and
// the meters' answer log live in this process.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import {
  type Clock,
  loadCatalogue,
  loadRigFile,
  type ModbusProfile,
  type RunningRig,
  registerCount,
  startRig,
  TrafficControllerModel,
} from '@brana/hardware';
import { buildingConfig, type GatewayConfigDoc, intersectionConfig } from '../start/configs.ts';
import { firmwareBin, firmwareSubcommands } from '../start/firmware-commands.ts';
import { FleetClient } from '../start/fleet-client.ts';
import { startRadioPty } from '../start/radio-pty.ts';
import { loadRegionFile, planSites, type RegionFile, type SitePlan } from '../start/region-file.ts';
import { loadVehicleKeys } from '../start/region-state.ts';
import type { SimVehicle } from '../start/vehicles.ts';
import { SiteClocks } from './clock.ts';
import type { DevicePoints, MeterAnswer } from './count.ts';
import { mountSmallDisk, unmountSmallDisk } from './disk.ts';
import { FaultProxy } from './proxy.ts';
import { Service } from './services.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const CHAOS_REGION_FILE = join(import.meta.dirname, 'region.yaml');
/** The dead-man time of the controller model, ms: as npm start sets it for a shared machine. */
export const DEADMAN_MS = 500;
/** The controller model's maximum hold: the gateway's 120 s plus margin. */
export const HOLD_MAX_MS = 125_000;

export interface ChaosRegionOptions {
  data: string;
  buildings: number;
  /** Size of each gateway's data disk (tmpfs), MB. */
  diskMb: number;
  trialS: number;
  faketime: string | null;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export type ProcessName = 'agent' | 'rt' | 'fieldbus';

export interface ChaosSite {
  plan: SitePlan;
  /** The gateway's data directory (its own disk when mounted). */
  dir: string;
  diskMounted: boolean;
  config: GatewayConfigDoc;
  services: Partial<Record<ProcessName, Service>>;
  localApiPort: number;
  gatewayId: string | null;
  /** Devices by Modbus unit: channel prefix and points, for counting readings. */
  devices: Map<number, DevicePoints>;
}

/** The meters' simulated world clock: real time plus a forward offset chaos can jump. */
export class WorldClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface ChaosRegion {
  region: RegionFile;
  sites: ChaosSite[];
  fleet: Service;
  fleetDb: string;
  fleetUrl: string;
  proxy: FaultProxy;
  clocks: SiteClocks;
  world: WorldClock;
  answers: MeterAnswer[];
  controller: TrafficControllerModel;
  intersectionRig: RunningRig;
  vehicles: SimVehicle[];
  udpPort: number;
  radioPath: string | null;
  client: FleetClient;
  disksMounted: boolean;
  diskProblem: string | null;
  /** Every process chaos may kill, by `fleet` or `<site>/<process>`. */
  processes(): Map<string, Service>;
  /** Stops the firmware first (so readings end), then the agents, the fleet server and the rigs. */
  stop(): Promise<void>;
}

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r, j) => {
      s.once('error', j);
      s.bind(0, '127.0.0.1', () => r());
    });
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(0, '127.0.0.1', () => r());
  });
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error('stopped');
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One retry for a request whose idle keep-alive connection the server closed meanwhile. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    await new Promise((r) => setTimeout(r, 200));
    return call();
  }
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export async function startChaosRegion(o: ChaosRegionOptions): Promise<ChaosRegion> {
  const data = resolve(o.data);
  const dirs = {
    fleet: join(data, 'fleet'),
    logs: join(data, 'logs'),
    bench: join(data, 'bench'),
    gateways: join(data, 'gateways'),
    agents: join(data, 'agents'),
    clock: join(data, 'clock'),
    region: join(data, 'region'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s();
      } catch (err) {
        o.log(`while stopping: ${(err as Error).message}`);
      }
    }
  };
  const step = () => {
    if (o.signal?.aborted) throw new Error('stopped while starting');
  };

  try {
    const region = loadRegionFile(CHAOS_REGION_FILE);
    const plans = planSites(region, o.buildings);
    const catalogue = loadCatalogue();
    const node = process.execPath;

    // ------------------------------------------------------------ fleet server, as its own process
    const fleetPort = await freePort('tcp');
    const fleetDb = join(dirs.fleet, 'fleet.db');
    const fleetUrl = `http://127.0.0.1:${fleetPort}`;
    const fleetBin = join(ROOT, 'fleet-server', 'bin', 'brana-fleet.mjs');
    const created = spawnSync(
      node,
      [fleetBin, 'user', 'create', 'region-chaos', '--role', 'fleetOperator', '--db', fleetDb],
      {
        encoding: 'utf8',
      },
    );
    const password = /one-time password: (\S+)/.exec(created.stdout ?? '')?.[1];
    if (!password)
      throw new Error(`brana-fleet user create failed: ${(created.stderr || created.stdout).trim()}`);
    const fleet = new Service({
      name: 'fleet',
      command: node,
      args: [fleetBin, 'serve', '--port', String(fleetPort), '--host', '127.0.0.1', '--db', fleetDb],
      restartMs: 1000,
      logFile: join(dirs.logs, 'fleet.log'),
    });
    fleet.enable();
    stops.push(() => fleet.stop());
    await waitFor(
      'the fleet server',
      60_000,
      async () => ((await fetch(`${fleetUrl}/healthz`)).ok ? true : undefined),
      o.signal,
    );
    const client = new FleetClient(fleetUrl);
    {
      const login = new FleetClient(fleetUrl);
      await login.login('region-chaos', password);
      const token = await login.post<{ token: string }>('/api/v1/tokens', { name: 'npm run chaos' });
      client.useToken(token.token);
    }
    o.log(`fleet server ${fleetUrl} (pid ${fleet.pid})`);

    const proxy = await FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: fleetPort });
    stops.push(() => proxy.close());
    step();

    // ------------------------------------------------------------ rigs, the meters' answer log
    const world = new WorldClock();
    const answers: MeterAnswer[] = [];
    const rigs = new Map<string, RunningRig>();
    const devicesBySite = new Map<string, Map<number, DevicePoints>>();
    for (const p of plans) {
      const rigFile = loadRigFile(p.rigFile, catalogue);
      const rig = await startRig(
        { ...rigFile, name: p.rigName, seed: (rigFile.seed ?? 1) + p.seedOffset },
        {
          dir: join(dirs.bench, p.rigName),
          catalogue,
          clock: world,
          speed: 1,
          onProblem: (m) => o.log(`${p.site} rig: ${m}`),
        },
      );
      stops.push(() => rig.stop());
      rigs.set(p.site, rig);
      const devices = new Map<number, DevicePoints>();
      for (const bus of rig.endpoints.rtu) {
        for (const d of bus.devices) {
          const profile = catalogue.get(d.profile) as ModbusProfile;
          devices.set(d.unit, {
            prefix: `${slug(d.name ?? `${d.profile}-${d.unit}`)}.`,
            points: profile.points.map((pt) => ({
              key: pt.key,
              fc: pt.functionCode,
              address: pt.address,
              words: pt.functionCode <= 2 ? 1 : registerCount(pt.type, (pt as { words?: number }).words),
            })),
          });
        }
      }
      devicesBySite.set(p.site, devices);
      // Every read a meter answers, logged where it is answered: the source the count starts from.
      for (const [key, bank] of rig.banks) {
        const unit = Number(key.split('/')[1]);
        const handle = bank.handle.bind(bank);
        bank.handle = (req) => {
          const res = handle(req);
          if ((req.fc === 3 || req.fc === 4 || req.fc === 1 || req.fc === 2) && !('exception' in res)) {
            answers.push({
              site: p.site,
              unit,
              fc: req.fc,
              address: req.address,
              count: req.quantity,
              atMs: Date.now(),
            });
          }
          return res;
        };
      }
    }
    step();

    // ------------------------------------------------------------ intersection: radio, controller
    const xPlan = plans.find((p) => p.kind === 'intersection')!;
    const xRig = rigs.get(xPlan.site)!;
    const radio = await startRadioPty(join(dirs.bench, xPlan.rigName)).catch((err: unknown) => {
      o.log(`radio pty: ${(err as Error).message}; radio vehicles use UDP`);
      return null;
    });
    if (radio) stops.push(() => radio.stop());
    const controller = new TrafficControllerModel(xRig.wires.bus, {
      approaches: region.intersection.approaches.map((a) => ({
        id: a.id,
        output: `preempt.${a.id}`,
        readback: `readback.${a.id}`,
      })),
      conflicts: region.intersection.conflicts,
      heartbeat: 'heartbeat',
      deadmanMs: DEADMAN_MS,
      holdMaxMs: HOLD_MAX_MS,
    });
    stops.push(() => controller.close());
    const udpPort = await freePort('udp');
    const vehicles = loadVehicleKeys(dirs.region, region.intersection.vehicles);

    // ------------------------------------------------------------ gateways
    const clocks = new SiteClocks(dirs.clock, o.faketime);
    const available = firmwareSubcommands();
    const fwBin = firmwareBin();
    const agentBin = join(ROOT, 'gateway', 'bin', 'brana-gateway.mjs');
    const sites: ChaosSite[] = [];
    let disksMounted = true;
    let diskProblem: string | null = null;
    for (const p of plans) {
      step();
      const rig = rigs.get(p.site)!;
      const config =
        p.kind === 'intersection'
          ? intersectionConfig(region, p, rig.endpoints, vehicles, {
              radioPath: radio?.gatewayPath ?? null,
              radioBaud: 19_200,
              udpPort,
            })
          : buildingConfig(p, rig.endpoints);
      const dir = join(dirs.gateways, p.site);
      const mounted = mountSmallDisk(dir, o.diskMb);
      if (mounted.ok) stops.push(() => unmountSmallDisk(dir));
      else {
        disksMounted = false;
        diskProblem = mounted.reason;
      }
      const claim = await retried(() =>
        client.post<{ token: string }>('/api/v1/claim-tokens', {
          gatewayName: p.name,
          tags: [`site-${p.site}`, p.kind === 'intersection' ? 'intersection' : 'building'],
          expiresInHours: 24,
        }),
      );
      const localApiPort = await freePort('tcp');
      const restartFile = join(dirs.agents, `${p.site}.restart`);
      writeFileSync(restartFile, '');
      const needs: ProcessName[] = [];
      const hasAlarms =
        (Array.isArray(config.alarms) && config.alarms.length > 0) ||
        (Array.isArray(config.relays) && config.relays.length > 0);
      if ((config.preemption !== undefined || hasAlarms) && available.has('rt')) needs.push('rt');
      const hasBus = Array.isArray(config.buses) && config.buses.length > 0;
      if (hasBus && available.has('fieldbus')) needs.push('fieldbus');
      const agentYaml = join(dirs.agents, `${p.site}.yaml`);
      writeFileSync(
        agentYaml,
        [
          `# written by npm run chaos for ${p.site}`,
          `dataDir: ${JSON.stringify(dir)}`,
          `server: ${JSON.stringify(proxy.url)}`,
          `claimToken: ${JSON.stringify(claim.token)}`,
          `localApi: { port: ${localApiPort}, host: 127.0.0.1 }`,
          `journal: { quotaMB: ${Math.max(1, Math.floor(o.diskMb / 2))} }`,
          `trialS: ${o.trialS}`,
          'firmware:',
          '  supervise: false',
          // The agent's config trial restarts the firmware as systemctl would: here by touching a
          // file this process watches.
          `  restartCommand: { command: touch, args: [${JSON.stringify(restartFile)}] }`,
          `  expectSources: [${needs.join(', ')}]`,
          '',
        ].join('\n'),
      );
      const env = () => clocks.env(p.site);
      const services: ChaosSite['services'] = {};
      const activeConfig = join(dir, 'config', 'active.json');
      const socket = join(dir, 'agent.sock');
      services.agent = new Service({
        name: `${p.site}/agent`,
        command: node,
        args: [agentBin, 'run', '--config', agentYaml],
        env: env(),
        restartMs: 1000,
        logFile: join(dirs.logs, `${p.site}-agent.log`),
      });
      if (needs.includes('rt')) {
        services.rt = new Service({
          name: `${p.site}/rt`,
          command: node,
          args: [
            '--expose-gc',
            '--max-semi-space-size=4',
            fwBin,
            'rt',
            '--config',
            activeConfig,
            '--agent-socket',
            socket,
            '--no-hw-watchdog',
          ],
          env: env(),
          restartMs: 500,
          condition: () => existsSync(activeConfig),
          logFile: join(dirs.logs, `${p.site}-rt.log`),
        });
      }
      if (needs.includes('fieldbus')) {
        services.fieldbus = new Service({
          name: `${p.site}/fieldbus`,
          command: node,
          args: [
            fwBin,
            'fieldbus',
            '--config',
            activeConfig,
            '--agent-socket',
            socket,
            '--state-file',
            join(dir, 'fieldbus-state.json'),
          ],
          env: env(),
          restartMs: 1000,
          condition: () => existsSync(activeConfig),
          logFile: join(dirs.logs, `${p.site}-fieldbus.log`),
        });
      }
      const site: ChaosSite = {
        plan: p,
        dir,
        diskMounted: mounted.ok,
        config,
        services,
        localApiPort,
        gatewayId: null,
        devices: devicesBySite.get(p.site) ?? new Map(),
      };
      sites.push(site);
      for (const s of Object.values(services)) s.enable();
      stops.push(async () => {
        // Firmware first, gracefully, so what it read is handed over before the agent stops.
        await Promise.all([services.rt?.stop(), services.fieldbus?.stop()]);
        await services.agent?.stop();
        for (const s of Object.values(services)) await s.closeLog();
      });
      // The restart command of the config trial: restart this site's firmware.
      let seen = statSync(restartFile).mtimeMs;
      const watch = setInterval(() => {
        const m = statSync(restartFile, { throwIfNoEntry: false })?.mtimeMs ?? seen;
        if (m === seen) return;
        seen = m;
        void Promise.all([services.rt?.restart(), services.fieldbus?.restart()]);
      }, 200);
      stops.push(() => clearInterval(watch));
    }
    o.log(
      disksMounted
        ? `gateway data on their own ${o.diskMb} MB tmpfs disks`
        : `gateway data on the machine's disk (${diskProblem}); the disk-full fault is left out`,
    );

    // ------------------------------------------------------------ enrolment, configs, rollouts
    await waitFor(
      'every gateway to enrol',
      90_000,
      async () => {
        const list = await client.get<{ id: string; tags: string[]; status: string }[]>('/api/v1/gateways');
        for (const s of sites) {
          const g = list.find((x) => x.status !== 'revoked' && x.tags.includes(`site-${s.plan.site}`));
          if (g) s.gatewayId = g.id;
        }
        return sites.every((s) => s.gatewayId !== null) ? true : undefined;
      },
      o.signal,
    );
    // A trial fails when a firmware process takes longer than the agent's connect timeout to start
    // (Node under a load average of 20 on this shared machine): such a site gets the config again as
    // a new version, up to three times.
    const versions = new Map<string, number>();
    const tries = new Map<string, number>();
    const rollOut = async (s: ChaosSite) => {
      const attempt = tries.get(s.plan.site) ?? 0;
      tries.set(s.plan.site, attempt + 1);
      const config =
        attempt === 0 ? s.config : { ...s.config, name: `${String(s.config.name)} (try ${attempt + 1})` };
      const doc = await retried(() =>
        client.post<{ version: number }>('/api/v1/configs', {
          config,
          comment: `npm run chaos: ${s.plan.site}`,
        }),
      );
      await retried(() =>
        client.post('/api/v1/rollouts', {
          configVersion: doc.version,
          target: { tag: `site-${s.plan.site}` },
          stages: [100],
        }),
      );
      versions.set(s.plan.site, doc.version);
    };
    for (const s of sites) await rollOut(s);
    await waitFor(
      'every gateway to apply its config',
      Math.max(300_000, o.trialS * 10_000),
      async () => {
        const list =
          await client.get<
            {
              id: string;
              runningVersion: number | null;
              desiredVersion: number | null;
              applyState: string | null;
            }[]
          >('/api/v1/gateways');
        let ok = true;
        for (const s of sites) {
          const g = list.find((x) => x.id === s.gatewayId);
          if (g?.runningVersion === versions.get(s.plan.site)) continue;
          ok = false;
          const failed =
            g?.desiredVersion === versions.get(s.plan.site) &&
            (g?.applyState === 'failed' || g?.applyState === 'rolledBack');
          if (failed && (tries.get(s.plan.site) ?? 0) < 4) {
            o.log(`${s.plan.site}: config trial failed (${g?.applyState}); rolling it out again`);
            await rollOut(s);
          }
        }
        return ok ? true : undefined;
      },
      o.signal,
    );
    o.log(`${sites.length} gateways enrolled and running their configs`);

    const processes = () => {
      const m = new Map<string, Service>([['fleet', fleet]]);
      for (const s of sites) for (const svc of Object.values(s.services)) m.set(svc.name, svc);
      return m;
    };
    return {
      region,
      sites,
      fleet,
      fleetDb,
      fleetUrl,
      proxy,
      clocks,
      world,
      answers,
      controller,
      intersectionRig: xRig,
      vehicles,
      udpPort,
      radioPath: radio?.vehiclePath ?? null,
      client,
      disksMounted,
      diskProblem,
      processes,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
