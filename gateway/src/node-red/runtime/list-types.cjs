// Prints the node types Node-RED's own registry knows, by module, as one JSON object on stdout:
// {"version":"4.1.x","modules":{"node-red":["inject",…],"node-red-contrib-brana":[…]}}.
// Runs the real runtime headless (no HTTP server) in a throw-away user dir, loading the modules
// named in argv (besides the core nodes) the way the gateway's Node-RED loads them.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const allow = process.argv.slice(2);
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brana-node-red-types-'));
const RED = require('node-red');

RED.init({
  userDir,
  flowFile: path.join(userDir, 'flows.json'),
  httpAdminRoot: false,
  httpNodeRoot: false,
  credentialSecret: 'throw-away',
  externalModules: { palette: { allowList: allow, denyList: ['*'] } },
  logging: { console: { level: 'off' } },
});

function finish(code) {
  fs.rmSync(userDir, { recursive: true, force: true });
  process.exit(code);
}

RED.start()
  .then(async () => {
    const sets = await RED.runtime.nodes.getNodeList({});
    const modules = {};
    for (const set of sets) {
      if (!set.enabled || set.err) continue;
      modules[set.module] = [...(modules[set.module] || []), ...set.types];
    }
    process.stdout.write(`${JSON.stringify({ version: RED.version(), modules })}\n`);
    await RED.stop();
    finish(0);
  })
  .catch((err) => {
    console.error(`list-types: ${err.message}`);
    finish(1);
  });
