// The Node-RED launcher on its own: it ends with the agent that started it (an agent killed with
// -9 must not leave a Node-RED holding the editor port for the next one), and it refuses to start
// without the files the agent writes, in one line that says what to do.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeRedSchema } from '@brana/firmware';
import { afterEach, expect, it } from 'vitest';
import {
  ensureSecrets,
  LAUNCHER,
  type LinkMessage,
  launchPlan,
  nodeRedPaths,
} from '../src/node-red/index.ts';
import { listenNodeRedLink, type NodeRedLink } from '../src/node-red/link.ts';

let dir: string;
let link: NodeRedLink | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  await link?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 30_000, what = 'condition') {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Running (an exited process nobody reaped yet, a zombie, counts as gone). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

it('Node-RED started by an agent ends when that agent is killed with -9', async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-launcher-'));
  const paths = nodeRedPaths(dir);
  mkdirSync(paths.userDir, { recursive: true });
  ensureSecrets(paths);
  const plan = launchPlan(nodeRedSchema.parse({ editor: { port: 0 } }), paths, 'test');
  writeFileSync(paths.settingsFile, JSON.stringify(plan.settings));
  const seen: LinkMessage[] = [];
  link = await listenNodeRedLink({ socketPath: paths.linkSocket, onMessage: (m) => seen.push(m) });

  // A stand-in agent: starts the launcher as its child, as the Node-RED host does, then idles.
  const agent = spawn(
    process.execPath,
    [
      '-e',
      `require('node:child_process').spawn(process.execPath, [${JSON.stringify(LAUNCHER)}], {
         stdio: 'ignore',
         env: { ...process.env, BRANA_NODE_RED_HOST_DIR: ${JSON.stringify(paths.hostDir)}, BRANA_NODE_RED_PARENT_PID: String(process.pid) },
       }); setInterval(() => {}, 1000);`,
    ],
    { stdio: 'ignore' },
  );
  children.push(agent);
  await until(() => seen.some((m) => m.t === 'listening'), 60_000, 'Node-RED listening');
  const hello = seen.find((m) => m.t === 'hello');
  const pid = hello?.t === 'hello' ? hello.pid : 0;
  expect(alive(pid)).toBe(true);

  agent.kill('SIGKILL');
  await until(() => !alive(pid), 15_000, 'Node-RED gone with its agent');
});

it('without the agent’s files the launcher stops at once with one line saying what to do', () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-launcher-'));
  const r = spawnSync(process.execPath, [LAUNCHER], {
    encoding: 'utf8',
    env: { ...process.env, BRANA_NODE_RED_HOST_DIR: dir },
    timeout: 30_000,
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(
    `brana-node-red: cannot read ${join(dir, 'settings.json')} (ENOENT). Fix: let brana-gateway write it (it does at start)\n`,
  );
});
