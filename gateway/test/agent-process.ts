// Runs the agent as its own process for the kill -9 tests: `tsx agent-process.ts <json options>`.
import { startGateway } from '../src/agent/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}');
const gw = await startGateway({ ...options, log: () => {} });
process.stdout.write(`ready ${gw.localApiUrl}\n`);
process.on('SIGTERM', () => {
  gw.close().then(() => process.exit(0));
});
