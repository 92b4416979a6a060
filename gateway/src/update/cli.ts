// `brana-gateway release …`: what a technician (or a test rig) does with releases on a gateway:
// see what is installed and how the last update went, install a release by hand (fetch, verify,
// switch; the new release's agent runs the trial), check the installed files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReleaseFiles, describeFileProblem, verifySignedManifest } from '@brana/release';
import { Command } from 'commander';
import { GatewayConfigError, GatewayError } from '../errors.ts';
import type { UpdateConfig } from './config.ts';
import { serviceControl, switchSettings, trialTiming } from './config.ts';
import { currentVersion, readJson, releaseDir, releasePaths } from './guard/disk.ts';
import type { Outcome } from './machine.ts';
import { checkServiceControl, Updater } from './updater.ts';

export interface ReleaseCliContext {
  update: UpdateConfig;
  /** Fleet server of the agent config: the default release server. */
  serverUrl: string | undefined;
  /** Schema version of the config the gateway runs. */
  configSchemaVersion: () => number | undefined;
  /** Signs release requests with the gateway's identity when it is enrolled. */
  sign?: (method: string, path: string) => Record<string, string>;
}

export type LoadReleaseContext = (configFile: string) => ReleaseCliContext;

function describeOutcome(o: Outcome | null): string {
  if (o === null) return 'none yet';
  const when = new Date(o.atMs).toLocaleString('cs-CZ', { timeZone: 'Europe/Prague' });
  const checks =
    o.failedChecks && o.failedChecks.length > 0 ? `; failed checks: ${o.failedChecks.join(', ')}` : '';
  return `${o.version} ${o.result}${o.by ? ` (by ${o.by})` : ''} at ${when}${o.reason ? `: ${o.reason}` : ''}${checks}`;
}

export function releaseCommand(load: LoadReleaseContext): Command {
  const cmd = new Command('release').description(
    'software releases on this gateway: status, install, verify',
  );
  const configOption = [
    '--config <file>',
    'agent config (YAML) with an update section',
    '/etc/brana/agent.yaml',
  ] as const;

  cmd
    .command('status')
    .description('the running release, what is installed, the update in progress and the last outcome')
    .option(...configOption)
    .option('--json', 'print JSON')
    .action((o: { config: string; json?: boolean }) => {
      const ctx = load(o.config);
      const paths = releasePaths(ctx.update.root);
      const state = (readJson(paths.state) as { machine?: Record<string, unknown> } | undefined)?.machine;
      const status = {
        current: currentVersion(paths) ?? null,
        state: state ?? null,
        switchPending: readJson(paths.switchRecord) ?? null,
        guardVerdict: readJson(paths.verdict) ?? null,
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      const s = state as { phase?: string; target?: string | null; last?: Outcome | null } | undefined;
      process.stdout.write(
        `running ${status.current ?? '(no release installed)'}; update ${s?.phase ?? 'idle'}${s?.target ? ` → ${s.target}` : ''}; last: ${describeOutcome(s?.last ?? null)}\n`,
      );
    });

  cmd
    .command('install')
    .description('fetch a release, verify it and switch to it; the agent of the new release runs the trial')
    .argument('<version>', 'release version, e.g. 1.4.0')
    .option(...configOption)
    .option('--server <url>', 'release server (default: update.server, else the fleet server)')
    .action(async (version: string, o: { config: string; server?: string }) => {
      const ctx = load(o.config);
      const baseUrl = o.server ?? ctx.update.server ?? ctx.serverUrl;
      if (baseUrl === undefined) {
        throw new GatewayConfigError(
          'update.server',
          'is not set and the gateway has no fleet server',
          'pass --server <url>',
        );
      }
      const services = serviceControl(ctx.update);
      checkServiceControl(services, ctx.update.agentUnit);
      const updater = new Updater({
        mode: 'cli',
        root: ctx.update.root,
        trustedKeys: ctx.update.releaseKeys,
        ...(ctx.update.platform ? { platform: ctx.update.platform } : {}),
        server: { baseUrl, ...(ctx.sign ? { sign: ctx.sign } : {}) },
        services,
        switchSettings: switchSettings(ctx.update),
        trial: trialTiming(ctx.update),
        configSchemaVersion: ctx.configSchemaVersion,
        progress: (p) => {
          if (p.kind === 'manifest') {
            process.stderr.write(
              `release ${version}: ${p.files} files (${(p.bytes / 1024 / 1024).toFixed(1)} MB); fetching ${p.missingFiles} (${(p.missingBytes / 1024 / 1024).toFixed(1)} MB), the rest is here already\n`,
            );
          }
        },
        log: (level, m) =>
          process.stderr.write(`brana-gateway: ${level === 'info' ? '' : `${level}: `}${m}\n`),
      });
      const s = updater.status();
      if (s.phase !== 'idle') {
        throw new GatewayError(
          `an update is in progress (${s.phase} ${s.target ?? ''}). Fix: wait for it (brana-gateway release status)`,
          { code: 'UPDATE_BUSY' },
        );
      }
      const done = updater.when(
        (st, commands) =>
          commands.some((c) => c.do === 'switch') || (st.phase === 'idle' && st.last?.version === version),
      );
      updater.desired(version);
      await done;
      await updater.settled();
      updater.close();
      const after = updater.status();
      if (after.phase === 'switching') {
        process.stdout.write(
          `switched to ${version}; the agent of ${version} now runs its trial (brana-gateway release status)\n`,
        );
        return;
      }
      if (after.running === version && after.phase === 'idle') {
        process.stdout.write(`${version} is running already\n`);
        return;
      }
      throw new GatewayError(`${describeOutcome(after.last)}`, { code: 'UPDATE_NOT_INSTALLED' });
    });

  cmd
    .command('verify')
    .description('check the running release: its manifest signature against the trusted keys and every file')
    .option(...configOption)
    .action(async (o: { config: string }) => {
      const ctx = load(o.config);
      const paths = releasePaths(ctx.update.root);
      const version = currentVersion(paths);
      if (version === undefined) {
        throw new GatewayError(
          `no release installed under ${paths.root} (no current link). Fix: install one (brana-provision)`,
          {
            code: 'NO_RELEASE',
          },
        );
      }
      const dir = releaseDir(paths, version);
      const v = verifySignedManifest(
        readFileSync(join(dir, 'manifest.json'), 'utf8'),
        ctx.update.releaseKeys,
      );
      if (!v.ok) {
        throw new GatewayError(`${dir}/manifest.json: ${v.where}: ${v.message}. Fix: reinstall the release`, {
          code: 'RELEASE_INVALID',
        });
      }
      const problems = await checkReleaseFiles(dir, v.manifest);
      process.stdout.write(
        `release ${version} (${v.manifest.platform}, key ${v.signed.keyId}): ${v.manifest.files.length} files, ${problems.length === 0 ? 'all match the signed manifest' : `${problems.length} problem(s)`}\n`,
      );
      for (const p of problems) process.stdout.write(`  ${describeFileProblem(p)}\n`);
      if (problems.length > 0) process.exitCode = 1;
    });
  return cmd;
}
