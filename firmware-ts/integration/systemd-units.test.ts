// The systemd units that start the firmware on a Pi (firmware-ts/systemd and the set the agent and
// brana-provision install, gateway/systemd) must call options the CLI has, and the notify-type
// rt units must accept sd_notify from the socat helper child.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'brana-firmware.mjs');
const FOLDERS = [join(HERE, '..', 'systemd'), join(HERE, '..', '..', 'gateway', 'systemd')];

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const units = FOLDERS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.service'))
    .map((f) => ({ path: join(dir, f), unit: directives(readFileSync(join(dir, f), 'utf8')) }))
    .filter(({ unit }) => (unit.get('ExecStart')?.[0] ?? '').includes('brana-firmware')),
);

const help = new Map<string, string>();
function helpOf(sub: string): string {
  let h = help.get(sub);
  if (h === undefined) {
    h = spawnSync(process.execPath, [BIN, sub, '--help'], { encoding: 'utf8', timeout: 60_000 }).stdout;
    help.set(sub, h);
  }
  return h;
}

describe('firmware systemd units', () => {
  it('finds the rt and fieldbus units of both sets', () => {
    expect(units.length).toBe(4);
  });

  it.each(units.map((u) => [u.path.split('/').slice(-3).join('/'), u] as const))(
    '%s calls options the CLI has, with an agent socket and the rt notify rules',
    (_name, { unit }) => {
      const exec = unit.get('ExecStart')![0]!.split(/\s+/);
      const sub = exec.find((w) => w === 'rt' || w === 'fieldbus')!;
      expect(sub).toBeDefined();
      const h = helpOf(sub);
      for (const flag of exec.filter(
        (w) => w.startsWith('--') && !w.startsWith('--expose') && !w.startsWith('--max-'),
      )) {
        expect(h, `${flag} in ${sub} --help`).toContain(flag.split('=')[0]);
      }
      expect(exec).toContain('--config');
      const socket =
        exec.includes('--agent-socket') ||
        (unit.get('Environment') ?? []).some((e) => e.startsWith('BRANA_AGENT_SOCKET='));
      expect(socket, 'the agent socket is passed').toBe(true);
      if (sub === 'rt') {
        expect(unit.get('Type')).toEqual(['notify']);
        expect(unit.get('NotifyAccess')).toEqual(['all']);
        expect(unit.get('CPUSchedulingPolicy')).toEqual(['fifo']);
        expect(unit.get('CPUSchedulingResetOnFork')).toEqual(['yes']);
      } else {
        // Counter totals survive restarts: an explicit state file, or the default under StateDirectory.
        expect(exec.includes('--state-file') || unit.has('StateDirectory')).toBe(true);
      }
    },
    60_000,
  );
});
