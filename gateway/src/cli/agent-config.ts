// The agent's own config file (`brana-gateway run --config agent.yaml`): where its data lives, the
// fleet server, the local API, how the firmware and Node-RED are run. The gateway config (buses, preemption, …)
// is not here: it comes signed from the fleet server.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatPath } from '@brana/firmware';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { GatewayOptions } from '../agent/index.ts';
import { GatewayConfigError } from '../errors.ts';

const commandSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).optional(),
});

export const agentConfigSchema = z.strictObject({
  dataDir: z.string().min(1),
  server: z.url().optional(),
  claimToken: z.string().min(8).optional(),
  localApi: z
    .strictObject({ port: z.int().min(0).max(65535).default(8181), host: z.string().default('127.0.0.1') })
    .default({ port: 8181, host: '127.0.0.1' }),
  journal: z
    .strictObject({
      quotaMB: z.number().positive().default(512),
      /** Most a reading waits in memory before it is written (the power-cut loss window for readings). */
      flushS: z.number().min(0).max(600).optional(),
    })
    .default({ quotaMB: 512 }),
  trialS: z.number().positive().max(3600).default(30),
  firmware: z
    .strictObject({
      supervise: z.boolean().default(true),
      restartCommand: commandSchema.optional(),
      expectSources: z.array(z.enum(['rt', 'fieldbus'])).optional(),
      rt: commandSchema.optional(),
      fieldbus: commandSchema.optional(),
    })
    .default({ supervise: true }),
  /** How Node-RED runs when a config enables it (the config says what it runs). */
  nodeRed: z
    .strictObject({
      /** The agent starts and restarts Node-RED (default); false on a Pi: systemd runs brana-node-red. */
      supervise: z.boolean().default(true),
      /** Without supervision: run to (re)start Node-RED with new settings (systemctl restart …). */
      restartCommand: commandSchema.optional(),
      /** Without supervision: run to stop Node-RED when a config turns it off. */
      stopCommand: commandSchema.optional(),
      /** How long Node-RED may take to start, seconds. */
      readyTimeoutS: z.number().positive().max(600).default(60),
      /** npm, for installing pinned modules from the gateway's module cache. */
      npmCommand: z.string().min(1).optional(),
    })
    .default({ supervise: true, readyTimeoutS: 60 }),
  upload: z
    .strictObject({
      batchSize: z.int().min(1).max(5000).optional(),
      backlogPerS: z.int().min(1).optional(),
    })
    .optional(),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

const FIXES: Record<string, string> = {
  dataDir: 'set dataDir to a writable directory, e.g. /var/lib/brana',
  server: 'set server to the fleet server base URL, e.g. https://fleet.example.org',
  'localApi.port': 'use a free TCP port 0..65535 (default 8181)',
  trialS: 'use a trial period in seconds, e.g. 30',
  'journal.flushS': "use 0..600 seconds; 10 (the default) writes a site's readings in one group every 10 s",
  'nodeRed.readyTimeoutS': 'use seconds, e.g. 60 (a Pi 3 needs about 20)',
};

/** Loads and checks the agent config; errors name the file, the path and the fix. */
export function loadAgentConfig(file: string): GatewayOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayConfigError(
      file,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'pass the path of an existing agent config file',
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new GatewayConfigError(
      file,
      `is not valid YAML (${(err as Error).message.split('\n')[0]})`,
      'fix the YAML syntax at the line shown',
    );
  }
  const parsed = agentConfigSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = formatPath(issue.path) || '(root)';
    throw new GatewayConfigError(
      `${file}: ${path}`,
      issue.message,
      FIXES[path] ?? `correct ${path} (see gateway/README.md)`,
    );
  }
  const c = parsed.data;
  const base = dirname(resolve(file));
  return {
    dataDir: resolve(base, c.dataDir),
    ...(c.server ? { serverUrl: c.server } : {}),
    ...(c.claimToken ? { claimToken: c.claimToken } : {}),
    localApiPort: c.localApi.port,
    localApiHost: c.localApi.host,
    journalQuotaMB: c.journal.quotaMB,
    ...(c.journal.flushS === undefined ? {} : { journalFlushS: c.journal.flushS }),
    trialS: c.trialS,
    firmware: {
      supervise: c.firmware.supervise,
      ...(c.firmware.rt ? { rt: c.firmware.rt } : {}),
      ...(c.firmware.fieldbus ? { fieldbus: c.firmware.fieldbus } : {}),
      ...(c.firmware.restartCommand ? { restartCommand: c.firmware.restartCommand } : {}),
      ...(c.firmware.expectSources ? { expectSources: c.firmware.expectSources } : {}),
    },
    nodeRed: {
      ...(c.nodeRed.supervise
        ? { supervise: true as const }
        : {
            supervise: false as const,
            ...(c.nodeRed.restartCommand ? { restartCommand: c.nodeRed.restartCommand } : {}),
            ...(c.nodeRed.stopCommand ? { stopCommand: c.nodeRed.stopCommand } : {}),
          }),
      readyTimeoutMs: c.nodeRed.readyTimeoutS * 1000,
      ...(c.nodeRed.npmCommand ? { npmCommand: c.nodeRed.npmCommand } : {}),
    },
    ...(c.upload ? { upload: c.upload } : {}),
  };
}
