// The parts `npm start` runs, from their packages' public surfaces. The web console is looked up at
// run time: until @brana/fleet-server exports it, the view says it is not available instead of the
// start failing.
import { validateGatewayConfig } from '@brana/firmware';
import { type FleetServer, type FleetServerOptions, startFleetServer } from '@brana/fleet-server';
import { type Gateway, type GatewayOptions, startGateway } from '@brana/gateway';

export type { FleetServer as RunningFleetServer, Gateway as RunningGateway, GatewayOptions };

export type MountConsole = NonNullable<FleetServerOptions['mount']>;

export interface Parts {
  startFleetServer: typeof startFleetServer;
  validateGatewayConfig: typeof validateGatewayConfig;
  startGateway: typeof startGateway;
  /** Mounts the web console on the fleet app, with the path it lives under; null until it lands. */
  console: { mount: MountConsole; path: string } | null;
  /** What is missing, for the view, e.g. "@brana/fleet-server: createConsole". */
  missing: string[];
}

type CreateConsole = (o: { fleet: unknown }) => unknown;

export async function loadParts(): Promise<Parts> {
  const fleet = (await import('@brana/fleet-server')) as unknown as Record<string, unknown>;
  const createConsole = fleet.createConsole as CreateConsole | undefined;
  const missing: string[] = [];
  if (typeof createConsole !== 'function') missing.push('@brana/fleet-server: createConsole (web console)');
  return {
    startFleetServer,
    validateGatewayConfig,
    startGateway,
    console:
      typeof createConsole === 'function'
        ? {
            // The console's routes carry their own /console prefix, so it is mounted at the root.
            mount: (app, f) => app.route('/', createConsole({ fleet: f }) as Parameters<typeof app.route>[1]),
            path: '/console/',
          }
        : null,
    missing,
  };
}
