// The parts `npm start` runs, from their packages' public surfaces only.
import { validateGatewayConfig } from '@brana/firmware';
import {
  createConsole,
  DEFAULT_CONSOLE_BASE,
  type FleetServer,
  type FleetServerOptions,
  startFleetServer,
} from '@brana/fleet-server';
import { type Gateway, type GatewayOptions, startGateway } from '@brana/gateway';

export type { FleetServer as RunningFleetServer, Gateway as RunningGateway, GatewayOptions };

export type MountConsole = NonNullable<FleetServerOptions['mount']>;

export interface Parts {
  startFleetServer: typeof startFleetServer;
  validateGatewayConfig: typeof validateGatewayConfig;
  startGateway: typeof startGateway;
  /** Mounts the web console on the fleet app, and the path it lives under. */
  console: { mount: MountConsole; path: string };
}

export async function loadParts(): Promise<Parts> {
  return {
    startFleetServer,
    validateGatewayConfig,
    startGateway,
    // The console's routes carry their own prefix, so it is mounted at the root.
    console: {
      mount: (app, fleet) => app.route('/', createConsole({ fleet })),
      path: `${DEFAULT_CONSOLE_BASE}/`,
    },
  };
}
