// The inventory over the API: sites, groups, gateways (with whether each is online now), renaming,
// moving and tagging a gateway, and revoking it (its live session closes at once).
import { CLOSE_CODES } from '@brana/protocol';
import { z } from 'zod';
import { ApiRouter } from '../api-kit/index.ts';
import type { FleetDb } from '../db/index.ts';
import {
  createGroup,
  createSite,
  gatewayView,
  listGateways,
  listGroups,
  listSites,
  requireGateway,
  revokeGateway,
  TAG,
  updateGateway,
} from './store.ts';

/** What the devices module needs of the live gateway sessions. */
export interface LiveGateways {
  isOnline(gatewayId: string): boolean;
  disconnect(gatewayId: string, code: number, reason: string): void;
}

export interface DevicesDeps {
  db: FleetDb;
  live: LiveGateways;
  now(): number;
}

const id = z.string().min(1).max(200);
const name = z.string().trim().min(1).max(200);

export function devicesApi(deps: DevicesDeps): ApiRouter {
  const { db, live, now } = deps;
  return new ApiRouter()
    .route({ method: 'get', path: '/sites', summary: 'List sites', tag: 'devices', access: 'viewer' }, () =>
      listSites(db),
    )
    .route(
      {
        method: 'post',
        path: '/sites',
        summary: 'Create a site (a building, an intersection)',
        tag: 'devices',
        access: 'fleetOperator',
        body: z.strictObject({
          name,
          kind: z.enum(['building', 'intersection', 'other']),
          address: z.string().max(500).optional(),
        }),
      },
      (_c, { body, actor }) => createSite(db, body, actor, now()),
    )
    .route({ method: 'get', path: '/groups', summary: 'List groups', tag: 'devices', access: 'viewer' }, () =>
      listGroups(db),
    )
    .route(
      {
        method: 'post',
        path: '/groups',
        summary: 'Create a group',
        tag: 'devices',
        access: 'fleetOperator',
        body: z.strictObject({ name, description: z.string().max(1000).optional() }),
      },
      (_c, { body, actor }) => createGroup(db, body, actor, now()),
    )
    .route(
      {
        method: 'get',
        path: '/gateways',
        summary: 'List gateways with their state',
        tag: 'devices',
        access: 'viewer',
        query: z.strictObject({
          siteId: z.string().optional(),
          groupId: z.string().optional(),
          tag: z.string().optional(),
        }),
      },
      (_c, { query }) => listGateways(db, query).map((g) => ({ ...g, online: live.isOnline(g.id) })),
    )
    .route(
      { method: 'get', path: '/gateways/:id', summary: 'One gateway', tag: 'devices', access: 'viewer' },
      (c) => {
        const g = gatewayView(db, requireGateway(db, c.req.param('id')!, 'id'));
        return { ...g, online: live.isOnline(g.id) };
      },
    )
    .route(
      {
        method: 'patch',
        path: '/gateways/:id',
        summary: 'Rename a gateway, move it to a site, set its groups and tags',
        tag: 'devices',
        access: 'fleetOperator',
        body: z.strictObject({
          name: name.optional(),
          siteId: id.nullable().optional(),
          groupIds: z.array(id).max(100).optional(),
          tags: z.array(TAG).max(100).optional(),
        }),
      },
      (c, { body, actor }) => updateGateway(db, c.req.param('id')!, body, actor),
    )
    .route(
      {
        method: 'post',
        path: '/gateways/:id/revoke',
        summary: 'Revoke a gateway: its live session closes, its next connection is refused',
        tag: 'devices',
        access: 'fleetOperator',
      },
      (c, { actor }) => {
        const gatewayId = c.req.param('id')!;
        const g = revokeGateway(db, gatewayId, actor, now());
        live.disconnect(gatewayId, CLOSE_CODES.revoked, 'revoked');
        return g;
      },
    );
}
