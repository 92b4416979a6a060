// The operator web console: server-rendered pages (hono/jsx) with a small client script. This is
// its mount table: the shell, then each feature's pages with what they need.
import type { Hono } from 'hono';
import { auditPages } from '../audit/index.ts';
import { authPages, listUsers, principalFromSession, sessionCookieOf } from '../auth/index.ts';
import { configsPages, listConfigDocuments } from '../configs/index.ts';
import { type ConsoleEnv, consoleShell, DEFAULT_CONSOLE_BASE } from '../console-shell/index.ts';
import { devicesPages, siteLookup } from '../devices/index.ts';
import { energyPages } from '../energy/index.ts';
import { enrolmentPages } from '../enrolment/index.ts';
import { eventsPages, listEvents } from '../events/index.ts';
import type { FleetServices } from '../fleet.ts';
import { gatewayConfigHistory, rolloutsPages } from '../rollouts/index.ts';
import { channelSeries, latestValues } from '../telemetry/index.ts';

export { DEFAULT_CONSOLE_BASE };

export interface ConsoleOptions {
  /** URL prefix of every console page; default "/console". Mount the result with app.route('/', …). */
  basePath?: string | undefined;
  /** Time zone for dates, days and nights; default Europe/Prague. */
  timeZone?: string | undefined;
  /** Sign-in attempts per client address; default 10 at once, then one per 5 s. */
  loginRateLimit?: { perSecond: number; burst: number } | undefined;
}

export function createConsole(fleet: FleetServices, options: ConsoleOptions = {}): Hono<ConsoleEnv> {
  const { database, bus, log, now, sessions } = fleet;
  const { db, sqlite } = database;
  const shell = consoleShell({
    principalOf: (c) => {
      const cookie = sessionCookieOf(c);
      return cookie ? principalFromSession(db, cookie, now()) : null;
    },
    bus,
    log,
    siteOf: siteLookup(sqlite),
    basePath: options.basePath,
    timeZone: options.timeZone,
  });
  const { timeZone } = shell;
  return shell
    .pages(authPages({ db, now, loginRateLimit: options.loginRateLimit }))
    .pages(
      devicesPages({
        database,
        live: sessions,
        timeZone,
        now,
        detail: {
          latestValues: (gatewayId) => latestValues(sqlite, gatewayId),
          series: (q) => channelSeries(sqlite, q),
          events: (q) => listEvents(sqlite, q),
          configHistory: (gatewayId) => gatewayConfigHistory(sqlite, gatewayId),
          configVersions: () => listConfigDocuments(db, 200).map((v) => v.version),
        },
      }),
    )
    .pages(energyPages({ database, bus, timeZone, now }))
    .pages(eventsPages({ database, timeZone, now }))
    .pages(configsPages({ db, validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey, now }))
    .pages(rolloutsPages({ database, rollouts: fleet.rollouts }))
    .pages(enrolmentPages({ db, now }))
    .pages(auditPages({ db, users: () => listUsers(db) }))
    .done();
}
