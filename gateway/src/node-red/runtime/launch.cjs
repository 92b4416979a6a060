// The Node-RED process on a gateway: Node-RED embedded in a small HTTP server, with the settings
// the agent generated (<host dir>/settings.json) and the secrets it keeps (credential secret,
// admin credential). Plain JavaScript on purpose: it runs inside Node-RED's own process, where a
// TypeScript loader would cost memory and hook every require of every node module.
//
// It talks to the agent over one Unix socket (settings.link), one JSON object per line, one way:
//   hello, listening, log, flows (started, with the nodes that did not start), deploy, dropped.
// When the agent is away (restarting) the lines wait in a bounded queue; the oldest are dropped
// and counted. Node-RED keeps running whatever happens to the agent.
//
// Environment:
//   BRANA_NODE_RED_HOST_DIR  folder with settings.json, credential-secret, admin.json
//                            (the agent's <dataDir>/node-red, or systemd's $CREDENTIALS_DIRECTORY)
//   BRANA_NODE_RED_PARENT_PID  set by the agent when it runs Node-RED as its child: Node-RED stops
//                            when that process is gone
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const hostDir = process.env.BRANA_NODE_RED_HOST_DIR;
if (!hostDir) {
  console.error(
    'brana-node-red: BRANA_NODE_RED_HOST_DIR is not set. Fix: start Node-RED through brana-gateway',
  );
  process.exit(2);
}

function readFile(name) {
  try {
    return fs.readFileSync(path.join(hostDir, name), 'utf8');
  } catch (err) {
    console.error(
      `brana-node-red: cannot read ${path.join(hostDir, name)} (${err.code || err.message}). Fix: let brana-gateway write it (it does at start)`,
    );
    process.exit(2);
  }
}

const host = JSON.parse(readFile('settings.json'));
const credentialSecret = readFile('credential-secret').trim();
const admin = JSON.parse(readFile('admin.json'));

// ------------------------------------------------------------------ link to the agent

const QUEUE_MAX = 2000;
const queue = [];
let dropped = 0;
let socket;
let connected = false;
/** Messages replayed after every (re)connect, so an agent that restarted learns the state. */
const sticky = {};

function send(message, stickyKey) {
  if (stickyKey) sticky[stickyKey] = message;
  if (connected && socket.writableLength < 1024 * 1024) {
    socket.write(`${JSON.stringify(message)}\n`);
    return;
  }
  if (queue.length >= QUEUE_MAX) {
    queue.shift();
    dropped++;
  }
  queue.push(message);
}

function connect() {
  if (!host.link) return;
  socket = net.connect(host.link);
  socket.on('connect', () => {
    connected = true;
    socket.write(`${JSON.stringify(helloMessage())}\n`);
    for (const key of ['listening', 'flows']) {
      if (sticky[key]) socket.write(`${JSON.stringify(sticky[key])}\n`);
    }
    if (dropped > 0) {
      socket.write(`${JSON.stringify({ t: 'dropped', count: dropped })}\n`);
      dropped = 0;
    }
    for (const m of queue.splice(0)) socket.write(`${JSON.stringify(m)}\n`);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    connected = false;
    setTimeout(connect, 1000).unref();
  });
  // The agent sends nothing; anything it does send is read and ignored.
  socket.on('data', () => {});
}

const startedAtMs = Date.now();
function helloMessage() {
  return {
    t: 'hello',
    pid: process.pid,
    startedAtMs,
    nodeRedVersion: RED.version(),
    nodeVersion: process.version,
    heapLimitMb: Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 1048576),
  };
}

// ------------------------------------------------------------------ settings for Node-RED

const LEVEL_NAMES = { 10: 'fatal', 20: 'error', 30: 'warn', 40: 'info', 50: 'debug', 60: 'trace' };

function text(m) {
  if (typeof m === 'string') return m;
  // Errors thrown in a function node come from another V8 context: not instanceof Error here.
  if (m && typeof m.message === 'string') return m.message;
  try {
    return JSON.stringify(m);
  } catch {
    return String(m);
  }
}

function linkLogger() {
  return (msg) => {
    const level = LEVEL_NAMES[msg.level];
    if (!level) return;
    const line = { t: 'log', level, msg: text(msg.msg).slice(0, 2000), at: msg.timestamp || Date.now() };
    if (msg.id)
      line.node = {
        id: String(msg.id),
        type: String(msg.type || ''),
        name: msg.name ? String(msg.name) : undefined,
        z: msg.z ? String(msg.z) : undefined,
      };
    send(line);
  };
}

function scryptMatches(password, record) {
  if (typeof password !== 'string' || !record || !record.salt || !record.hash) return false;
  const expected = Buffer.from(record.hash, 'base64');
  const got = crypto.scryptSync(password, Buffer.from(record.salt, 'base64'), expected.length, {
    N: record.N,
    r: record.r,
    p: record.p,
    maxmem: 64 * 1024 * 1024,
  });
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

const agentTokenHash = Buffer.from(admin.agentTokenSha256, 'hex');
function agentTokenMatches(token) {
  if (typeof token !== 'string' || token.length === 0) return false;
  const got = crypto.createHash('sha256').update(token).digest();
  return got.length === agentTokenHash.length && crypto.timingSafeEqual(got, agentTokenHash);
}

function userOf(username) {
  const u = admin.users.find((x) => x.username === username);
  return u ? { username: u.username, permissions: u.permissions } : null;
}

const settings = {
  userDir: host.userDir,
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret,
  uiHost: host.editor.host,
  uiPort: host.editor.port,
  httpAdminRoot: '/',
  httpNodeRoot: '/',
  adminAuth: {
    type: 'credentials',
    sessionExpiryTime: host.sessionExpiryS,
    users: (username) => Promise.resolve(userOf(username)),
    authenticate: (username, password) =>
      Promise.resolve(
        scryptMatches(password, admin.users.find((x) => x.username === username)?.scrypt)
          ? userOf(username)
          : null,
      ),
    // The agent's own bearer token (only its SHA-256 is here).
    tokens: (token) =>
      Promise.resolve(agentTokenMatches(token) ? { username: 'brana-agent', permissions: '*' } : null),
  },
  // Only Node-RED's core nodes, node-red-contrib-brana and the modules the config pins load; no
  // install from the editor or from a function node (that would reach the internet at run time).
  externalModules: {
    autoInstall: false,
    palette: { allowInstall: false, allowUpload: false, allowList: host.modules, denyList: ['*'] },
    modules: { allowInstall: false },
  },
  functionExternalModules: false,
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: true, ui: false },
  runtimeState: { enabled: false, ui: false },
  editorTheme: {
    page: { title: host.title },
    header: { title: host.title },
    tours: false,
  },
  logging: {
    console: { level: host.consoleLevel, metrics: false, audit: false },
    brana: { level: host.logLevel, metrics: false, audit: false, handler: linkLogger },
  },
};

// ------------------------------------------------------------------ Node-RED itself

const RED = require('node-red');
const express = require(require.resolve('express', { paths: [path.dirname(require.resolve('node-red'))] }));

connect();

const app = express();
app.disable('x-powered-by');
const server = http.createServer(app);
server.setMaxListeners(0);

RED.init(server, settings);
app.use(settings.httpAdminRoot, RED.httpAdmin);
app.use(settings.httpNodeRoot, RED.httpNode);

/** Nodes of the active flows that should run but have no instance (their constructor failed). */
function notStarted(flows) {
  const tabs = new Map();
  const subflows = new Set();
  for (const n of flows) {
    if (n.type === 'tab') tabs.set(n.id, n);
    if (n.type === 'subflow') subflows.add(n.id);
  }
  const missing = [];
  for (const n of flows) {
    // Subflow instances have no node of their own to look up; their inner nodes log their errors.
    if (SKIP_TYPES.has(n.type) || n.type.startsWith('subflow:') || n.d === true || subflows.has(n.z))
      continue;
    if (n.z && tabs.get(n.z)?.disabled === true) continue;
    if (!RED.nodes.getNode(n.id)) missing.push({ id: n.id, type: n.type, name: n.name || undefined });
  }
  return missing;
}
const SKIP_TYPES = new Set(['tab', 'subflow', 'group', 'junction', 'global-config']);

RED.events.on('flows:started', (e) => {
  const flows = e.config?.flows || [];
  send(
    { t: 'flows', state: 'started', rev: e.config?.rev, nodes: flows.length, notStarted: notStarted(flows) },
    'flows',
  );
});
RED.events.on('flows:stopped', () => {
  send({ t: 'flows', state: 'stopped' }, 'flows');
});
RED.events.on('runtime-event', (e) => {
  if (e.id === 'runtime-deploy') send({ t: 'deploy', rev: e.payload?.revision });
  else if (e.id === 'runtime-state' && e.payload?.error) {
    send(
      {
        t: 'flows',
        state: 'blocked',
        error: e.payload.error,
        types: e.payload.types,
        modules: e.payload.modules,
      },
      'flows',
    );
  }
});

process.title = 'brana-node-red';
RED.start()
  .then(() => {
    server.on('error', (err) => {
      RED.log.error(`cannot listen on ${host.editor.host}:${host.editor.port} (${err.code || err.message})`);
      process.exit(1);
    });
    server.listen(host.editor.port, host.editor.host, () => {
      const a = server.address();
      send({ t: 'listening', host: host.editor.host, port: a.port }, 'listening');
    });
  })
  .catch((err) => {
    RED.log.error(`Node-RED did not start: ${err.stack || err}`);
    process.exit(1);
  });

process.on('uncaughtException', (err) => {
  try {
    RED.log.error(`uncaught exception: ${err.stack || err}`);
  } catch {
    console.error(err);
  }
  // The line above goes out before the process ends when the agent is connected.
  if (socket && connected) socket.end(() => process.exit(1));
  else process.exit(1);
  setTimeout(() => process.exit(1), 500).unref();
});

// Run by the agent (not systemd): end with it, so that an agent killed with -9 leaves no Node-RED
// holding the editor port for the next one.
const parentPid = Number(process.env.BRANA_NODE_RED_PARENT_PID || 0);
if (parentPid > 0) {
  setInterval(() => {
    if (process.ppid !== parentPid) stop();
  }, 1000).unref();
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 5000).unref();
  RED.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
