// Worker threads that run this package's TypeScript. A plain `new Worker(url)` gets the parent's
// module loader under some runners and not under others (vitest, `node --import tsx`, the bin's
// tsx register()); this boot script registers tsx in the thread itself before it imports the entry.
import { Worker } from 'node:worker_threads';

const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx)
  .then((tsx) => { tsx.register(); return import(workerData.entry); })
  .catch((error) => { parentPort.postMessage({ bootError: String(error) }); process.exit(1); });
`;

/**
 * Starts `entry` (a module URL) on a worker thread; `data` reaches it as workerData.data. The
 * thread does not keep the process alive. A failure to load is posted as `{ bootError }`.
 */
export function startTsWorker(entry: URL, data?: unknown): Worker {
  const worker = new Worker(BOOT, {
    eval: true,
    workerData: { tsx: import.meta.resolve('tsx/esm/api'), entry: entry.href, data },
  });
  worker.unref();
  return worker;
}
