// Moving between installed releases: the switch (record first, then the atomic rename of
// `current`, then the guard, then the services restarted in order), the switch back, and the
// commit (removing the switch record is the commit point; then the guard is refreshed from the
// new release and releases no longer needed are removed).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedManifest } from '@brana/release';
import type { RestartCommand, SwitchRecord } from './guard/decide.ts';
import {
  currentVersion,
  type ReleasePaths,
  releaseDir,
  removeFile,
  switchCurrent,
  writeAtomic,
} from './guard/disk.ts';

export interface ServiceControl {
  /** Run in order after a switch: rt (returns once its self-test passed), fieldbus, then the agent itself. */
  restart: RestartCommand[];
  /** Starts the guard's watch (no-block). */
  startGuard?: RestartCommand;
  /** Each restart command may take this long (default 120 s: rt waits for its self-test). */
  timeoutMs?: number;
}

export type SwitchSettings = Omit<SwitchRecord, 'id' | 'from' | 'to' | 'restart'>;

/** Runs one command to its end; resolves with a problem string, or undefined when it exited 0. */
export function runCommand(c: RestartCommand, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(c.command, c.args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`${c.command} could not start (${err.message})`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `${c.command} ${c.args.join(' ')} ended with ${code ?? signal}`);
    });
  });
}

async function runAll(commands: readonly RestartCommand[], timeoutMs: number): Promise<string | undefined> {
  for (const c of commands) {
    const problem = await runCommand(c, timeoutMs);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Switches to `to`. Returns a problem when a restart command failed; the caller switches back.
 * The last restart command restarts this process's own service, so on success this process is
 * usually stopped before (or soon after) the promise resolves.
 */
export async function switchTo(
  paths: ReleasePaths,
  from: string | null,
  to: string,
  settings: SwitchSettings,
  services: ServiceControl,
): Promise<string | undefined> {
  const record: SwitchRecord = {
    id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    from: from ?? to,
    to,
    ...settings,
    restart: services.restart,
  };
  // Counts of the previous switch must not count against this one.
  removeFile(paths.starts);
  removeFile(paths.boots);
  removeFile(paths.verdict);
  writeAtomic(paths.switchRecord, `${JSON.stringify(record, null, 1)}\n`);
  switchCurrent(paths, to);
  if (services.startGuard) {
    const problem = await runCommand(services.startGuard, 30_000);
    if (problem !== undefined) return `the update guard did not start: ${problem}`;
  }
  return runAll(services.restart, services.timeoutMs ?? 120_000);
}

export async function switchBack(
  paths: ReleasePaths,
  to: string,
  services: ServiceControl,
): Promise<string | undefined> {
  if (currentVersion(paths) !== to) switchCurrent(paths, to);
  return runAll(services.restart, services.timeoutMs ?? 120_000);
}

export function clearSwitch(paths: ReleasePaths): void {
  removeFile(paths.switchRecord);
  removeFile(paths.starts);
  removeFile(paths.boots);
}

/**
 * The new release passed its trial: the switch record goes (from then on the guard leaves it
 * alone), the guard is refreshed from it, and releases other than it and `keep` are removed.
 */
export function commitRelease(paths: ReleasePaths, version: string, keep: string | null): void {
  removeFile(paths.switchRecord);
  removeFile(paths.starts);
  removeFile(paths.boots);
  installGuard(paths, version);
  // Without a known previous release (a commit finished after a power cut) nothing is removed.
  if (keep === null || !existsSync(paths.releases)) return;
  for (const v of readdirSync(paths.releases)) {
    if (v === version || v === keep) continue;
    rmSync(join(paths.releases, v), { recursive: true, force: true });
  }
}

/** Copies the release's guard to <root>/guard/ (atomically) when it differs from the installed one. */
export function installGuard(paths: ReleasePaths, version: string): void {
  const dir = releaseDir(paths, version);
  const signed = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SignedManifest;
  const source = join(dir, ...signed.manifest.entrypoints.guard.split('/'));
  const target = join(paths.guardDir, 'brana-update-guard.mjs');
  const text = readFileSync(source, 'utf8');
  if (existsSync(target) && readFileSync(target, 'utf8') === text) return;
  writeAtomic(target, text);
  const map = `${source}.map`;
  if (existsSync(map)) copyFileSync(map, `${target}.map`);
}
