// The inventory an operator manages: sites, groups, tags and gateways, their API, and the console's
// fleet list and gateway pages. A gateway's last-seen time is kept here too.
export { type DevicesDeps, devicesApi, type LiveGateways } from './api.ts';
export type { ConfigHistoryRow, LatestValue, SeriesView } from './gateway-page.tsx';
export {
  type FleetRow,
  fleetOverview,
  type GatewayState,
  gatewayState,
  listTags,
  siteLookup,
  sitesOfKind,
} from './overview.ts';
export { type DevicesPagesDeps, devicesPages, type GatewayDetailSources } from './pages.tsx';
export {
  createGroup,
  createSite,
  type GatewayRow,
  type GatewayView,
  gatewayView,
  listGateways,
  listGroups,
  listSites,
  newGatewayId,
  nextGatewayNum,
  requireGateway,
  requireGroup,
  requireSite,
  revokeGateway,
  type SiteKind,
  TAG,
  targetGatewayIds,
  updateGateway,
} from './store.ts';
