// Fan-out benchmark: 10,000 simulated gateways connected over WebSocket from a second process;
// a staged rollout (10 % canary, then the rest) reaches every one and their applied reports come
// back. Measures the seconds from creating the rollout to its completion and the server's RSS.
// Run: npm run bench -w @brana/fleet-server [-- --json] [-- --quick]
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigDocument, firmwareConfigValidator } from '../src/configs/index.ts';
import { createGroup } from '../src/devices/index.ts';
import { startFleetServer } from '../src/server.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const COUNT = quick ? 1000 : 10_000;

function ask<T>(child: ChildProcess, msg: unknown, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { kind: string }) => {
      if (m.kind !== kind) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg as never);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'brana-bench-fanout-'));
const server = await startFleetServer({
  dbPath: join(dir, 'fleet.db'),
  port: 0,
  heartbeatS: 600,
  validateConfig: firmwareConfigValidator,
  app: { rateLimit: { perSecond: 1e6, burst: 1e6 } },
});
const child = fork(new URL('./fanout-client.ts', import.meta.url));
try {
  const fleet = server.fleet;
  const { publicKeys } = await ask<{ publicKeys: string[] }>(
    child,
    { kind: 'start', url: server.url, count: COUNT },
    'keys',
  );
  // Registering 10,000 gateways through claim tokens would measure enrolment, not fan-out.
  const group = createGroup(fleet.database.db, { name: 'fanout' }, 'bench');
  const ids = publicKeys.map((_, i) => `gw_bench${String(i).padStart(6, '0')}`);
  const insertGw = fleet.database.sqlite.prepare(
    "INSERT INTO gateways (id, num, name, public_key, status, enrolled_at) VALUES (?, ?, ?, ?, 'active', ?)",
  );
  const insertMember = fleet.database.sqlite.prepare(
    'INSERT INTO gateway_groups (gateway_id, group_id) VALUES (?, ?)',
  );
  fleet.database.sqlite.transaction(() => {
    ids.forEach((id, i) => {
      insertGw.run(id, i + 1, id, publicKeys[i], Date.now());
      insertMember.run(id, group.id);
    });
  })();
  const connected = await ask<{ seconds: number; refused: number }>(
    child,
    { kind: 'ids', ids, serverPublicKey: fleet.serverKey.publicKey },
    'connected',
  );
  if (connected.refused > 0 || fleet.sessions.onlineIds().length !== COUNT) {
    throw new Error(
      `only ${fleet.sessions.onlineIds().length} of ${COUNT} gateways connected (${connected.refused} refused)`,
    );
  }
  const doc = createConfigDocument(
    fleet.database.db,
    { validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey },
    { config: { name: 'fan-out', alarms: [{ name: 'door', line: 'GPIO5' }] } },
    'bench',
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rollout = fleet.rollouts.create(
    { configVersion: doc.version, target: { group: group.id }, stages: [10, 100] },
    'bench',
  );
  await new Promise<void>((resolve, reject) => {
    // Poll a few times a second: reading 10,000 target rows on every change would measure this loop.
    const timer = setInterval(() => {
      const r = fleet.rollouts.get(rollout.id);
      if (r.state === 'completed') {
        clearInterval(timer);
        resolve();
      } else if (r.state !== 'running' || performance.now() - t0 > 120_000) {
        clearInterval(timer);
        reject(
          new Error(
            `rollout ${r.state} after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.stopReason}`,
          ),
        );
      }
    }, 50);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU seconds the server spent: on a shared machine wall time mostly measures the neighbours.
  const serverCpuS = (cpu.user + cpu.system) / 1e6;
  const serverRssMB = Math.round(process.memoryUsage().rss / 1048576);
  const stopped = await ask<{ applied: number; rssMB: number }>(child, { kind: 'stop' }, 'stopped');
  if (stopped.applied !== COUNT) throw new Error(`${stopped.applied} of ${COUNT} gateways applied`);
  const row = {
    bench: 'fanout',
    case: String(COUNT),
    unit: 's',
    gateways: COUNT,
    seconds: Number(seconds.toFixed(2)),
    serverRssMB,
    serverCpuS: Number(serverCpuS.toFixed(2)),
    loadAverage: Number(loadavg()[0]!.toFixed(1)),
    connectSeconds: Number(connected.seconds.toFixed(2)),
    clientRssMB: stopped.rssMB,
  };
  if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
  else {
    console.log(
      `fan-out: rollout (10 % canary, then the rest) to ${COUNT} gateways on WebSocket sessions from a second process`,
    );
    console.table([row].map(({ bench: _b, unit: _u, ...r }) => r));
  }
} finally {
  if (child.connected) child.kill();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
