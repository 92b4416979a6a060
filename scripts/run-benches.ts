// Runs every `<package>/bench/*.bench.ts` of the package in the current directory, one child
// process each (so one benchmark's garbage and timers never disturb the next), forwarding the
// arguments (`--json`, `--quick`, a name filter).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const dir = join(process.cwd(), 'bench');
let files: string[];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
} catch {
  console.error(`no bench/ folder in ${process.cwd()}`);
  process.exit(2);
}
const selected = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (selected.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}; have: ${files.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of selected) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file), ...args], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
