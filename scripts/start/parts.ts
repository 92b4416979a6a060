// The parts `npm start` runs, looked up at run time from their packages' public surfaces. A part a
// package does not offer yet is reported as missing (the view says so) instead of crashing the start.
// The interfaces below are the subset of each part's API this script uses.
import type { EventEmitter } from 'node:events';

export interface ConfigIssue {
  path: string;
  message: string;
  fix: string;
}
export type ConfigValidator = (
  doc: unknown,
) => { ok: true; config: unknown } | { ok: false; errors: ConfigIssue[] };

export interface FleetLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface TelemetryEventRecord {
  type?: string;
  kind?: string;
  ts?: number;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface FleetBus extends EventEmitter {
  on(
    event: 'telemetry',
    listener: (e: {
      gatewayId: string;
      readings: readonly unknown[];
      events: readonly TelemetryEventRecord[];
    }) => void,
  ): this;
  on(event: 'gateway', listener: (e: { gatewayId: string; online: boolean }) => void): this;
  on(event: 'rollout', listener: (e: { rolloutId: string }) => void): this;
  on(event: 'apply', listener: (e: { gatewayId: string; version: number; state: string }) => void): this;
}

export interface RunningFleetServer {
  url: string;
  port: number;
  fleet: { bus: FleetBus; hub: { isOnline(gatewayId: string): boolean } };
  createUser(
    username: string,
    role: 'viewer' | 'technician' | 'fleetOperator' | 'admin',
    password?: string,
  ): Promise<{ id: string; password: string }>;
  createAdmin(username: string, password?: string): Promise<{ id: string; password: string }>;
  close(): Promise<void>;
}

export type StartFleetServer = (options: {
  dbPath: string;
  port: number;
  host: string;
  log?: FleetLogger;
  validateConfig: ConfigValidator;
}) => Promise<RunningFleetServer>;

export type { Gateway as RunningGateway, GatewayOptions } from '@brana/gateway';

import { type Gateway, type GatewayOptions, startGateway } from '@brana/gateway';
export type StartGateway = (options: GatewayOptions) => Promise<Gateway>;

export interface Parts {
  startFleetServer: StartFleetServer | null;
  validateGatewayConfig:
    | ((doc: unknown, o?: { knownProfiles?: ReadonlySet<string> }) => ReturnType<ConfigValidator>)
    | null;
  startGateway: StartGateway | null;
  /** What is missing, for the view: "@brana/fleet-server: startFleetServer". */
  missing: string[];
}

async function surface(pkg: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    if (process.env.BRANA_DEBUG) console.error(err);
    return {};
  }
}

export async function loadParts(): Promise<Parts> {
  const [fleet, firmware] = await Promise.all([surface('@brana/fleet-server'), surface('@brana/firmware')]);
  const missing: string[] = [];
  const pick = <T>(mod: Record<string, unknown>, pkg: string, name: string): T | null => {
    const f = mod[name];
    if (typeof f === 'function') return f as T;
    missing.push(`${pkg}: ${name}`);
    return null;
  };
  return {
    startFleetServer: pick<StartFleetServer>(fleet, '@brana/fleet-server', 'startFleetServer'),
    validateGatewayConfig: pick(firmware, '@brana/firmware', 'validateGatewayConfig'),
    startGateway: typeof startGateway === 'function' ? startGateway : null,
    missing,
  };
}
