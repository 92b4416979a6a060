// What `npm start` remembers between runs (data folder, region/): the service account's API token,
// the vehicle keys, the intersection's UDP port, and per site its claim token, gateway and config.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawPublicKeyB64u, vehicleKeyFromPrivate } from '@brana/hardware';
import { StartError } from './errors.ts';
import type { RegionFile } from './region-file.ts';
import type { SimVehicle } from './vehicles.ts';

export interface SiteState {
  siteId: string | null;
  /** Unused claim token, kept until the gateway has enrolled with it. */
  claimToken: string | null;
  gatewayId: string | null;
  /** Hash and version of the last config rolled out to this site. */
  configHash: string | null;
  configVersion: number | null;
  rolloutId: string | null;
}

export interface RegionState {
  /** The fleet server's port at enrolment: gateways keep the URL they enrolled with. */
  fleetPort: number | null;
  adminCreated: boolean;
  serviceUser: string | null;
  serviceToken: string | null;
  groupId: string | null;
  udpPort: number | null;
  sites: Record<string, SiteState>;
}

export function emptySiteState(): SiteState {
  return {
    siteId: null,
    claimToken: null,
    gatewayId: null,
    configHash: null,
    configVersion: null,
    rolloutId: null,
  };
}

export function loadRegionState(file: string): RegionState {
  const empty: RegionState = {
    fleetPort: null,
    adminCreated: false,
    serviceUser: null,
    serviceToken: null,
    groupId: null,
    udpPort: null,
    sites: {},
  };
  if (!existsSync(file)) return empty;
  try {
    return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<RegionState>) };
  } catch {
    throw new StartError(
      'DATA_FOLDER_UNUSABLE',
      `${file} is not valid JSON. Fix: move the data folder away to start afresh, or start with --data <another folder>`,
    );
  }
}

/** Written atomically (temp file + rename) with owner-only permissions: it holds an API token. */
export function saveRegionState(file: string, state: RegionState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

interface KeyFileEntry {
  name: string;
  privateKeyPem: string;
}

/**
 * The vehicle units' keys: made once (on the "device"), kept in region/vehicle-keys.json, so the
 * public keys in the intersection's config stay the same across restarts.
 */
export function loadVehicleKeys(dir: string, vehicles: RegionFile['intersection']['vehicles']): SimVehicle[] {
  const file = join(dir, 'vehicle-keys.json');
  let entries: KeyFileEntry[] = [];
  if (existsSync(file)) {
    try {
      entries = JSON.parse(readFileSync(file, 'utf8')) as KeyFileEntry[];
    } catch {
      throw new StartError(
        'DATA_FOLDER_UNUSABLE',
        `${file} is not valid JSON. Fix: delete it (new vehicle keys are made and rolled out) and start again`,
      );
    }
  }
  let changed = false;
  const out = vehicles.map((v) => {
    let entry = entries.find((e) => e.name === v.name);
    if (!entry) {
      const { privateKey } = generateKeyPairSync('ed25519');
      entry = { name: v.name, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
      entries.push(entry);
      changed = true;
    }
    const key = vehicleKeyFromPrivate(createPrivateKey(entry.privateKeyPem));
    return { ...v, privateKey: key.privateKey, publicKey: rawPublicKeyB64u(key.publicKey) };
  });
  if (changed) writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
  return out;
}
