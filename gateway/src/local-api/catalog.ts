// What a flow can name on this gateway, from the running config: devices and their channels (from
// the device profiles, plus any channel seen in the readings), pulse inputs, relays with their
// owner and last known state, alarm inputs, and the event types the firmware sends. The Node-RED
// editor fills its drop-downs from this, so operators pick names instead of typing them.
import { readFileSync, statSync } from 'node:fs';
import type { Catalogue } from '@brana/hardware';
import { channelTopic } from './patterns.ts';

export interface CatalogChannel {
  topic: string;
  point: string;
  unit: string | undefined;
  kind: string | undefined;
}

export interface CatalogDevice {
  name: string;
  profile: string | undefined;
  bus: string | undefined;
  channels: CatalogChannel[];
}

export interface CatalogRelay {
  name: string;
  owner: 'rules' | 'flows';
  /** Last state the rt process reported (relay.switched); null before the first switch seen. */
  on: boolean | null;
}

export interface Catalog {
  gateway: string | undefined;
  devices: CatalogDevice[];
  relays: CatalogRelay[];
  alarms: { name: string; kind: string }[];
  eventTypes: { type: string; what: string }[];
}

/** Event types flows most often want; any other dotted type can be typed as a pattern. */
export const EVENT_TYPES: readonly { type: string; what: string }[] = [
  { type: 'alarm.raised', what: 'an alarm input or an operator alarm was raised' },
  { type: 'alarm.acknowledged', what: 'an operator alarm was acknowledged' },
  { type: 'alarm.cleared', what: 'an alarm ended' },
  { type: 'preemption.asserted', what: 'priority was served to an emergency or transit vehicle' },
  { type: 'preemption.released', what: 'a priority request ended' },
  { type: 'preemption.rejected', what: 'a priority request was refused (and why)' },
  { type: 'preemption.fault', what: 'the preemption path went safe after a fault' },
  { type: 'relay.switched', what: 'a relay changed state (by its rules or by a flow)' },
  { type: 'relay.fault', what: 'a relay could not be driven' },
  { type: 'device.status', what: 'a meter went offline or came back' },
  { type: 'fieldbus.bus', what: 'a bus went down or came back' },
  { type: 'fieldbus.fault', what: 'a request to a meter failed' },
  { type: 'fault', what: 'a firmware fault' },
];

interface ConfigLike {
  name?: unknown;
  devices?: { name?: unknown; profile?: unknown; bus?: unknown; points?: unknown }[];
  pulses?: { name?: unknown; profile?: unknown }[];
  relays?: { name?: unknown; owner?: unknown }[];
  alarms?: { name?: unknown; kind?: unknown }[];
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function buildCatalog(
  config: unknown,
  profiles: Catalogue | undefined,
  seen: readonly { channel: string; unit: string | undefined; kind: string | undefined }[],
  relayStates: ReadonlyMap<string, boolean>,
): Catalog {
  const c = (config && typeof config === 'object' ? config : {}) as ConfigLike;
  const devices = new Map<string, CatalogDevice>();
  const channel = (
    device: CatalogDevice,
    point: string,
    unit: string | undefined,
    kind: string | undefined,
  ) => {
    if (device.channels.some((ch) => ch.point === point)) return;
    device.channels.push({ topic: channelTopic(`${device.name}.${point}`), point, unit, kind });
  };
  for (const d of Array.isArray(c.devices) ? c.devices : []) {
    const name = str(d.name);
    if (!name) continue;
    const device: CatalogDevice = { name, profile: str(d.profile), bus: str(d.bus), channels: [] };
    const profile = device.profile ? profiles?.get(device.profile) : undefined;
    const only = Array.isArray(d.points)
      ? new Set(d.points.filter((p): p is string => typeof p === 'string'))
      : undefined;
    if (profile?.kind === 'modbus') {
      for (const p of profile.points)
        if (!only || only.has(p.key)) channel(device, p.key, p.unit || undefined, p.kind);
    }
    devices.set(name, device);
  }
  for (const p of Array.isArray(c.pulses) ? c.pulses : []) {
    const name = str(p.name);
    if (!name) continue;
    const profile = str(p.profile) ? profiles?.get(str(p.profile)!) : undefined;
    const water = profile?.kind === 's0' && profile.pulse.unit === 'm3';
    const device: CatalogDevice = { name, profile: str(p.profile), bus: undefined, channels: [] };
    channel(device, water ? 'volumeM3' : 'energyKWh', water ? 'm3' : 'kWh', 'counter');
    channel(device, water ? 'flowM3H' : 'powerW', water ? 'm3/h' : 'W', 'gauge');
    devices.set(name, device);
  }
  for (const s of seen) {
    const dot = s.channel.indexOf('.');
    if (dot <= 0) continue;
    const name = s.channel.slice(0, dot);
    let device = devices.get(name);
    if (!device) {
      device = { name, profile: undefined, bus: undefined, channels: [] };
      devices.set(name, device);
    }
    channel(device, s.channel.slice(dot + 1), s.unit, s.kind);
  }
  const relays: CatalogRelay[] = (Array.isArray(c.relays) ? c.relays : []).flatMap((r) => {
    const name = str(r.name);
    return name
      ? [{ name, owner: r.owner === 'flows' ? 'flows' : 'rules', on: relayStates.get(name) ?? null }]
      : [];
  });
  const alarms = (Array.isArray(c.alarms) ? c.alarms : []).flatMap((a) => {
    const name = str(a.name);
    return name ? [{ name, kind: str(a.kind) ?? 'generic' }] : [];
  });
  return {
    gateway: str(c.name),
    devices: [...devices.values()].sort((a, b) => a.name.localeCompare(b.name)),
    relays,
    alarms,
    eventTypes: [...EVENT_TYPES],
  };
}

/** Reads a JSON config file again only when it changed (by mtime and size). */
export function cachedJsonFile(path: () => string | null): () => unknown {
  let key = '';
  let value: unknown;
  return () => {
    const p = path();
    if (p === null) return undefined;
    try {
      const st = statSync(p);
      const k = `${p}:${st.mtimeMs}:${st.size}`;
      if (k !== key) {
        value = JSON.parse(readFileSync(p, 'utf8'));
        key = k;
      }
      return value;
    } catch {
      return undefined;
    }
  };
}
