// The parts `npm start` runs, from their packages' public surfaces only.
import { validateGatewayConfig } from '@brana/firmware';
import {
  type ConsoleOptions,
  DEFAULT_CONSOLE_BASE,
  type FleetServer,
  startFleetServer,
} from '@brana/fleet-server';
import { type Gateway, type GatewayOptions, startGateway } from '@brana/gateway';

export type { FleetServer as RunningFleetServer, Gateway as RunningGateway, GatewayOptions };

export interface Parts {
  startFleetServer: typeof startFleetServer;
  validateGatewayConfig: typeof validateGatewayConfig;
  startGateway: typeof startGateway;
  /** How the fleet server serves the web console, and the path it lives under. */
  console: { options: ConsoleOptions; path: string };
}

export async function loadParts(): Promise<Parts> {
  return {
    startFleetServer,
    validateGatewayConfig,
    startGateway,
    console: { options: {}, path: `${DEFAULT_CONSOLE_BASE}/` },
  };
}
