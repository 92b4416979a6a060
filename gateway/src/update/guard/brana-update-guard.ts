// brana-update-guard: switches a gateway back to its previous release when the new one cannot
// show it works, without relying on anything of the new release (the way a bootloader's boot
// counter does it for Mender). Installed at <root>/guard/ from the last committed release, run by
// its own unit, built from this folder into plain JavaScript that needs nothing but Node.
//
//   boot     at boot, before the Brána services: count this boot if a trial is pending; past the
//            limit (or with the `current` link missing) point `current` back at once
//   started  from the agent unit's ExecStartPre: count one start of the agent
//   watch    while a trial is pending: too many agent starts, or no commit within the trial
//            window plus grace → switch back and restart the services in order; exits when the
//            switch is resolved (committed or switched back by the agent)
//   status   print what the guard sees, as JSON
//
// Every command exits 0 on its own failures (logged): a broken guard must never stop a boot.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decideAtBoot,
  decideWatching,
  type GuardAction,
  type GuardView,
  parseSwitchRecord,
} from './decide.ts';
import {
  appendLine,
  currentVersion,
  type ReleasePaths,
  readJson,
  readLines,
  releasePaths,
  switchCurrent,
  writeAtomic,
} from './disk.ts';

const USAGE = `usage: brana-update-guard <boot|started <unit>|watch|status> --root <dir> [--poll-ms <ms>]
  --root     where releases are installed (default /opt/brana)
  --poll-ms  how often watch looks (default 1000)
Environment: BRANA_BOOT_ID overrides /proc/sys/kernel/random/boot_id (bench rigs).`;

function log(message: string): void {
  process.stderr.write(`brana-update-guard: ${message}\n`);
}

function bootId(): string {
  const fromEnv = process.env.BRANA_BOOT_ID;
  if (fromEnv) return fromEnv;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

function view(paths: ReleasePaths): GuardView {
  const record = parseSwitchRecord(readJson(paths.switchRecord));
  let installed: string[] = [];
  try {
    installed = readdirSync(paths.releases).filter((v) =>
      existsSync(join(paths.releases, v, 'manifest.json')),
    );
  } catch {
    // no releases folder: nothing installed
  }
  const starts = readLines(paths.starts).filter(
    (l) => record !== undefined && l.split(' ')[0] === record.agentUnit,
  );
  return {
    record,
    current: currentVersion(paths),
    installed: new Set(installed),
    bootsCounted: readLines(paths.boots),
    bootId: bootId(),
    agentStarts: starts.length,
  };
}

function switchBack(
  paths: ReleasePaths,
  v: GuardView,
  action: Extract<GuardAction, { do: 'switch-back' }>,
): void {
  const to = v.record?.from;
  if (to === undefined) return;
  log(`switching back to ${to}: ${action.reason}`);
  writeAtomic(
    paths.verdict,
    `${JSON.stringify({ switchId: v.record?.id, from: v.record?.to, to, reason: action.reason, atMs: Date.now() })}\n`,
  );
  switchCurrent(paths, to);
  if (!action.restart || v.record === undefined) return;
  for (const c of v.record.restart) {
    const r = spawnSync(c.command, c.args, { stdio: 'inherit', timeout: 180_000 });
    if (r.status !== 0)
      log(
        `${c.command} ${c.args.join(' ')} ended with ${r.status ?? r.signal ?? r.error?.message}; going on`,
      );
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const opt = (name: string, fallback: string) => {
    const i = rest.indexOf(name);
    return i >= 0 && rest[i + 1] !== undefined ? rest[i + 1]! : fallback;
  };
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const paths = releasePaths(opt('--root', '/opt/brana'));
  switch (command) {
    case 'boot': {
      const v = view(paths);
      const action = decideAtBoot(v);
      if (action.do === 'count-boot') {
        appendLine(paths.boots, v.bootId);
        log(`trial of ${v.record?.to} goes on: boot ${v.bootsCounted.length + 1} of ${v.record?.maxBoots}`);
      } else if (action.do === 'switch-back') {
        switchBack(paths, v, action);
      }
      return;
    }
    case 'started': {
      const unit = rest[0];
      if (unit === undefined || unit.startsWith('--'))
        throw new Error(`started needs the unit name\n${USAGE}`);
      const v = view(paths);
      if (v.record !== undefined && v.current === v.record.to)
        appendLine(paths.starts, `${unit} ${Date.now()} ${v.bootId}`);
      return;
    }
    case 'watch': {
      const pollMs = Math.max(50, Number(opt('--poll-ms', '1000')) || 1000);
      const startedMs = performance.now();
      for (;;) {
        const v = view(paths);
        const action = decideWatching(v, startedMs, performance.now());
        if (action.do === 'nothing') {
          log(`not watching: ${action.why}`);
          return;
        }
        if (action.do === 'switch-back') {
          switchBack(paths, v, action);
          return;
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    }
    case 'status': {
      const v = view(paths);
      process.stdout.write(
        `${JSON.stringify({ ...v, installed: [...v.installed], verdict: readJson(paths.verdict) ?? null }, null, 1)}\n`,
      );
      return;
    }
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  log(`${(err as Error).message}`);
  // Exit 0 all the same: the services must start whatever happened here.
  process.exitCode = 0;
});
