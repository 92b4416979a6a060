// Node-RED on the gateway, end to end: the agent in-process with firmware stand-ins (real IPC), a
// fleet server on the real wire schemas pushing signed configs, and a real Node-RED 4.1 runtime
// as the agent's child. Supervision (kill -9), the flows' trial and rollback, drift, credentials.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowNode } from '@brana/firmware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/agent/index.ts';
import { enrol } from '../src/fleet/index.ts';
import { sealCredentials } from '../src/node-red/index.ts';
import { type FakeFleet, startFakeFleet } from '../test/fake-fleet.ts';

const standIn = join(import.meta.dirname, '../test/firmware-stand-in.ts');
const echoModule = join(import.meta.dirname, '../test/fixtures/node-red-contrib-brana-test-echo');
let dir: string;
let fleet: FakeFleet;
let gw: Gateway;
let hub: Server;
const hubAuth: string[] = [];
const output: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-nodered-'));
  fleet = await startFakeFleet();
  hub = createServer((req, res) => {
    hubAuth.push(req.headers.authorization ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
  const cmd = (source: string) => ({
    command: process.execPath,
    args: ['--import', 'tsx', standIn, source],
    env: { STAND_IN_RATE: '100' },
  });
  gw = await startGateway({
    dataDir: dir,
    firmware: { supervise: true, rt: cmd('rt'), fieldbus: cmd('fieldbus') },
    nodeRed: { supervise: true, output: (line) => output.push(line) },
    localApiPort: 0,
    trialS: 1,
    upload: { tickMs: 20, reconnectMinMs: 50, reconnectMaxMs: 200 },
    log: () => {},
  });
});
afterAll(async () => {
  await gw?.close();
  await fleet?.close();
  hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const reportsFor = (version: number) => fleet.applyReports.filter((r) => r.version === version);
const eventsOf = (type: string) => [...fleet.events.values()].filter((e) => e.kind === type);

function tab(): FlowNode {
  return { id: 'tab', type: 'tab', label: 'Test' };
}

/** Gives every wired node a position, as the editor does (without one it would be a config node). */
function placed(nodes: FlowNode[]): FlowNode[] {
  return nodes.map((n, i) => (n.wires === undefined ? n : { x: 100 + 150 * i, y: 60, ...n }));
}

/** GET /hello answers `text` while these flows run. */
function helloFlow(text: string): FlowNode[] {
  return placed([
    tab(),
    { id: 'in', type: 'http in', z: 'tab', name: 'hello', url: '/hello', method: 'get', wires: [['set']] },
    {
      id: 'set',
      type: 'change',
      z: 'tab',
      name: 'answer',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: text, tot: 'str' }],
      wires: [['out']],
    },
    { id: 'out', type: 'http response', z: 'tab', name: 'reply', statusCode: '', headers: {}, wires: [] },
  ]);
}

/** An inject node firing once at the start, then every `repeatS` seconds ('' for never), into `to`. */
function inject(id: string, name: string, repeatS: string, to: string): FlowNode {
  return {
    id,
    type: 'inject',
    z: 'tab',
    name,
    props: [{ p: 'payload' }],
    repeat: repeatS,
    once: true,
    onceDelay: 0.1,
    wires: [[to]],
  };
}

/** A function node running `code` on each message, wired nowhere. */
function fn(id: string, name: string, code: string): FlowNode {
  return {
    id,
    type: 'function',
    z: 'tab',
    name,
    func: code,
    outputs: 1,
    initialize: '',
    finalize: '',
    libs: [],
    wires: [[]],
  };
}

function config(flows: FlowNode[], nodeRed: Record<string, unknown> = {}) {
  return { name: 'Domov pro seniory', nodeRed: { editor: { port: 0 }, trialS: 1, ...nodeRed }, flows };
}

async function hello(): Promise<string | undefined> {
  const url = gw.nodeRed.status().editorUrl;
  if (!url) return undefined;
  try {
    const res = await fetch(`${url}/hello`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Logs in as an operator would in the editor and returns the bearer token. */
async function editorLogin(password: string): Promise<Response> {
  return fetch(`${gw.nodeRed.status().editorUrl}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '*',
      username: 'admin',
      password,
    }),
  });
}

async function apply(version: number, cfg: unknown, end: 'applied' | 'rolledBack' | 'failed' = 'applied') {
  fleet.pushDesired(fleet.setDesired(cfg, version));
  await until(
    () =>
      reportsFor(version).some((r) => r.state === end || r.state === 'failed' || r.state === 'rolledBack'),
    90_000,
    `v${version} ${end}`,
  );
  return reportsFor(version);
}

describe('Node-RED on the gateway', { timeout: 120_000 }, () => {
  it('a config with flows starts Node-RED and deploys them through the admin API inside the trial', async () => {
    await until(() => gw.link?.stats().state === 'online');
    const reports = await apply(1, config(helloFlow('ahoj')));
    expect(reports.map((r) => r.state)).toEqual(['staged', 'trial', 'applied']);
    expect(await hello()).toBe('ahoj');
    const s = gw.nodeRed.status();
    expect(s).toMatchObject({ state: 'running', flows: { state: 'started', nodes: 4 } });
    expect(s.signedRevision).toBe(s.flows?.rev);
    // --max-old-space-size=256 (V8 adds its young generation to the limit it reports).
    expect(s.heapLimitMb).toBeGreaterThanOrEqual(256);
    expect(s.heapLimitMb).toBeLessThan(400);
    await until(() => eventsOf('node-red.started').length > 0);
    expect(eventsOf('node-red.log').length).toBeGreaterThan(0);
  });

  it('the editor is locked: no token, no flows; the generated admin credential logs in; it listens on 127.0.0.1 only', async () => {
    const url = gw.nodeRed.status().editorUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/flows`)).status).toBe(401);
    expect((await editorLogin('not-the-password')).status).toBe(403);
    const password = readFileSync(join(dir, 'node-red/admin-password'), 'utf8').trim();
    const login = await editorLogin(password);
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    expect(
      (await fetch(`${url}/flows`, { headers: { Authorization: `Bearer ${access_token}` } })).status,
    ).toBe(200);
    // Node-RED got only hashes: neither the password nor the agent's token is in what it reads.
    const adminFile = readFileSync(join(dir, 'node-red/admin.json'), 'utf8');
    expect(adminFile).not.toContain(password);
    expect(adminFile).not.toContain(readFileSync(join(dir, 'node-red/agent-token'), 'utf8').trim());
  });

  it('kill -9 of Node-RED: an event, a restart with backoff, the flows running again, and no reading lost', async () => {
    const pid = gw.nodeRed.status().pid!;
    const fieldbusValues = () =>
      [...fleet.readings.values()]
        .filter((r) => r.channel === 'fieldbus.meter-1.energyKWh')
        .map((r) => r.value as number);
    const before = Math.max(0, ...fieldbusValues());
    process.kill(pid, 'SIGKILL');
    await until(() => eventsOf('node-red.exited').length > 0, 10_000, 'exit event');
    expect(eventsOf('node-red.exited')[0]?.data).toMatchObject({ signal: 'SIGKILL', restartInMs: 500 });
    await until(
      async () => gw.nodeRed.status().pid !== pid && (await hello()) === 'ahoj',
      60_000,
      'flows again',
    );
    expect(gw.nodeRed.status().restarts).toBe(1);
    // The firmware's readings never depended on Node-RED: every one of them reached the fleet.
    await until(() => Math.max(0, ...fieldbusValues()) > before + 50, 20_000, 'more readings');
    const values = fieldbusValues().sort((a, b) => a - b);
    expect(values[0]).toBe(1);
    expect(values.length).toBe(values[values.length - 1]);
  });

  it('a flow whose node fails in the trial rolls back to the last good flows and config, naming the node', async () => {
    const failing: FlowNode[] = placed([
      ...helloFlow('nové'),
      inject('tick', 'každých 200 ms', '0.2', 'boom'),
      fn('boom', 'read meter 7', "throw new Error('meter 7 does not answer');"),
    ]);
    const reports = await apply(2, config(failing), 'rolledBack');
    expect(reports.map((r) => r.state)).toEqual(['staged', 'trial', 'rolledBack']);
    const rolledBack = reports.at(-1)!;
    expect(rolledBack.errors).toContainEqual({
      path: 'flows[5]',
      message: 'node "read meter 7" (function): meter 7 does not answer',
      fix: expect.stringContaining('last good flows'),
    });
    expect(rolledBack.detail).toContain(
      'node-red: flows[5]: node "read meter 7" (function): meter 7 does not answer',
    );
    expect(gw.applier.status()).toMatchObject({ running: { version: 1 }, refused: { version: 2 } });
    expect(await hello()).toBe('ahoj');
    const s = gw.nodeRed.status();
    expect(s.flows?.rev).toBe(s.signedRevision);
  });

  it('a deploy made in the editor is drift: reported by name, kept for the fleet, and reverted on command', async () => {
    const url = gw.nodeRed.status().editorUrl!;
    const password = readFileSync(join(dir, 'node-red/admin-password'), 'utf8').trim();
    const { access_token } = (await (await editorLogin(password)).json()) as { access_token: string };
    const edited = helloFlow('upraveno v editoru');
    edited.push({ id: 'note', type: 'comment', z: 'tab', name: 'zkouška', info: '', x: 100, y: 200 });
    edited.splice(3, 1); // the reply node removed …
    edited.push({
      id: 'out2',
      type: 'http response',
      z: 'tab',
      name: 'odpověď',
      statusCode: '200',
      headers: {},
      wires: [],
      x: 600,
      y: 60,
    });
    (edited[2]!.wires as string[][])[0] = ['out2']; // … and a new one wired in
    const res = await fetch(`${url}/flows`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${access_token}`,
        'Content-Type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify({ flows: edited }),
    });
    expect(res.status).toBe(200);
    await until(() => eventsOf('flows.drift').length > 0, 15_000, 'drift event');
    const drift = eventsOf('flows.drift')[0]!.data as Record<string, unknown>;
    expect(drift).toMatchObject({
      config: { version: 1 },
      added: [
        { name: 'zkouška', type: 'comment', tab: 'Test' },
        { name: 'odpověď', type: 'http response', tab: 'Test' },
      ],
      removed: [{ name: 'reply', type: 'http response', tab: 'Test' }],
      changed: [{ name: 'answer', type: 'change', tab: 'Test' }],
    });
    expect(gw.nodeRed.drift()?.flows).toHaveLength(edited.length);
    expect(gw.nodeRed.status().drift?.summary).toContain('answer: rules, wires');
    expect(await hello()).toBe('upraveno v editoru');

    await gw.nodeRed.revert();
    expect(await hello()).toBe('ahoj');
    expect(gw.nodeRed.drift()).toBeUndefined();
    await until(() => eventsOf('flows.reverted').length > 0);
  });

  it('sealed credentials reach the node that uses them and nowhere else in clear', async () => {
    const secret = 'Heslo-pro-ústřednu-42';
    const { publicKey } = gw.nodeRed.credentialsPublicKey();
    const flows: FlowNode[] = placed([
      ...helloFlow('ahoj'),
      inject('go', 'once', '', 'req'),
      {
        id: 'req',
        type: 'http request',
        z: 'tab',
        name: 'call the nurse station',
        method: 'GET',
        ret: 'txt',
        url: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub`,
        authType: 'basic',
        wires: [[]],
      },
    ]);
    const sealed = sealCredentials({ req: { user: 'sestra', password: secret } }, [publicKey]);
    const reports = await apply(3, config(flows, { credentials: sealed }));
    expect(reports.map((r) => r.state)).toEqual(['staged', 'trial', 'applied']);
    await until(() => hubAuth.length > 0);
    expect(hubAuth.at(-1)).toBe(`Basic ${Buffer.from(`sestra:${secret}`).toString('base64')}`);
    // Not in the config document, the journal, what the fleet got, or Node-RED's credentials file.
    const files = [
      'config/active.json',
      'config/good.json',
      'journal.db',
      'node-red/user/flows_cred.json',
      'node-red/user/flows.json',
    ];
    for (const f of files) expect(readFileSync(join(dir, f)).includes(Buffer.from(secret)), f).toBe(false);
    expect(JSON.stringify([...fleet.events.values(), ...fleet.applyReports])).not.toContain(secret);
    expect(output.join('\n')).not.toContain(secret);
  });

  it('a pinned module is installed from the gateway’s cache and its node runs; an unknown type is refused with its path', async () => {
    mkdirSync(join(dir, 'node-red/cache/packages'), { recursive: true });
    execFileSync('npm', ['pack', echoModule, '--pack-destination', join(dir, 'node-red/cache/packages')], {
      stdio: 'ignore',
    });
    const flows: FlowNode[] = placed([
      tab(),
      { id: 'in', type: 'http in', z: 'tab', name: 'hello', url: '/hello', method: 'get', wires: [['echo']] },
      { id: 'echo', type: 'test-echo', z: 'tab', name: 'echo', wires: [['out']] },
      { id: 'out', type: 'http response', z: 'tab', name: 'reply', statusCode: '', headers: {}, wires: [] },
    ]);
    const modules = [{ name: 'node-red-contrib-brana-test-echo', version: '1.0.0', types: ['test-echo'] }];
    const reports = await apply(4, config(flows, { modules }));
    expect(reports.map((r) => r.state)).toEqual(['staged', 'trial', 'applied']);
    expect(await hello()).toBe('echoed');
    await until(() => eventsOf('node-red.module.installed').length > 0);

    // The same flow without the module pinned: refused before anything is touched.
    const refused = await apply(5, config(flows), 'failed');
    expect(refused.at(-1)?.errors).toContainEqual({
      path: 'flows[2].type',
      message: 'unknown node type "test-echo"',
      fix: expect.stringContaining('nodeRed.modules'),
    });
    expect(await hello()).toBe('echoed');
  });

  it('a chatty flow cannot flood the journal, and the flows keep running while the gateway is offline', async () => {
    const flows: FlowNode[] = placed([
      ...helloFlow('offline ok'),
      inject('fast', 'every 10 ms', '0.01', 'chatty'),
      fn('chatty', 'chatty', "node.warn('tick ' + Date.now()); return null;"),
    ]);
    const reports = await apply(6, config(flows));
    expect(reports.map((r) => r.state)).toEqual(['staged', 'trial', 'applied']);
    const droppedBefore = gw.nodeRed.status().log.droppedLines;
    fleet.cut();
    await until(() => gw.link?.stats().state !== 'online', 10_000, 'offline');
    for (let i = 0; i < 5; i++) {
      expect(await hello()).toBe('offline ok');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Hundreds of warnings a second, held to the warn/info bucket (burst 30, then 2 a minute).
    await until(() => gw.nodeRed.status().log.droppedLines > droppedBefore + 200, 20_000, 'dropped lines');
    fleet.resume();
    await until(() => gw.link?.stats().state === 'online', 20_000, 'online again');
    gw.journal.flush();
    await new Promise((r) => setTimeout(r, 1500));
    const fromChatty = eventsOf('node-red.log').filter(
      (e) => (e.data as { node?: { name?: string } }).node?.name === 'chatty',
    );
    expect(fromChatty.length).toBeGreaterThan(0);
    expect(fromChatty.length).toBeLessThanOrEqual(32);
    expect(fromChatty[0]?.data).toMatchObject({ level: 'warn', node: { type: 'function', name: 'chatty' } });
  });
});
