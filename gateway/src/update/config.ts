// The `update:` section of the agent config (agent.yaml): where releases live, which release keys
// the gateway trusts, the trial and the guard's limits, and how the services are restarted.
import { PLATFORMS } from '@brana/release';
import { z } from 'zod';
import type { ServiceControl, SwitchSettings } from './switch.ts';
import type { TrialTiming } from './trial.ts';

const commandSchema = z.strictObject({ command: z.string().min(1), args: z.array(z.string()).default([]) });

export const updateConfigSchema = z.strictObject({
  root: z.string().min(1).default('/opt/brana'),
  /** Release public keys (43 base64url characters each, `brana-release keygen`'s .pub). */
  releaseKeys: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a release public key: 43 base64url characters'))
    .min(1),
  /** Release server; default the fleet server the gateway is enrolled with. */
  server: z.url().optional(),
  platform: z.enum(PLATFORMS).optional(),
  trialS: z.number().positive().max(3600).default(300),
  settleS: z.number().nonnegative().max(600).default(30),
  graceS: z.number().nonnegative().max(3600).default(60),
  maxStarts: z.int().min(1).max(50).default(3),
  maxBoots: z.int().min(1).max(10).default(2),
  agentUnit: z.string().min(1).default('brana-gateway.service'),
  startGuard: commandSchema.optional(),
  /** In order: rt (returns after its self-test), fieldbus, then the agent itself (no-block). */
  restart: z.array(commandSchema).min(1),
  restartTimeoutS: z.number().positive().max(600).default(120),
});
export type UpdateConfig = z.infer<typeof updateConfigSchema>;

export function serviceControl(c: UpdateConfig): ServiceControl {
  return {
    restart: c.restart,
    ...(c.startGuard ? { startGuard: c.startGuard } : {}),
    timeoutMs: c.restartTimeoutS * 1000,
  };
}

export function switchSettings(c: UpdateConfig): SwitchSettings {
  return {
    trialMs: c.trialS * 1000,
    graceMs: c.graceS * 1000,
    maxStarts: c.maxStarts,
    maxBoots: c.maxBoots,
    agentUnit: c.agentUnit,
  };
}

export function trialTiming(c: UpdateConfig): TrialTiming {
  return { windowMs: c.trialS * 1000, settleMs: Math.min(c.settleS, c.trialS) * 1000 };
}
