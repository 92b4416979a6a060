// The region description (scripts/region/region.yaml): which sites exist, their rigs, the
// intersection's approaches, conflicts and vehicles. `planSites` turns it into the sites of one run.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { StartError } from './errors.ts';

export const DEFAULT_REGION_FILE = resolve(import.meta.dirname, '..', 'region', 'region.yaml');

const siteName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'use 1-32 lower-case letters, digits and -');

export const regionFileSchema = z.strictObject({
  name: z.string().min(1),
  intersection: z.strictObject({
    site: siteName,
    name: z.string().min(1),
    intersectionId: z.int().min(0).max(0xffff_ffff),
    center: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
    corridorRadiusM: z.number().positive().max(5000),
    rig: z.string().min(1),
    approaches: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[a-z][a-z0-9-]*$/),
          number: z.int().min(1).max(255),
          headingDeg: z.number().min(0).lt(360),
        }),
      )
      .min(1),
    conflicts: z.record(z.string(), z.array(z.string())),
    vehicles: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(16),
          vehicleId: z.int().min(0).max(0xffff_ffff),
          role: z.enum(['ambulance', 'fire', 'police', 'transit']),
          link: z.enum(['radio', 'udp']),
        }),
      )
      .min(1),
  }),
  buildings: z
    .array(
      z.strictObject({
        kind: z.enum(['school', 'care-home']),
        name: z.string().min(1),
        rig: z.string().min(1),
      }),
    )
    .min(1),
});

export type RegionFile = z.infer<typeof regionFileSchema>;
export type RegionFileWithPaths = RegionFile & { file: string };

export function loadRegionFile(file = DEFAULT_REGION_FILE): RegionFileWithPaths {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StartError(
      'REGION_INVALID',
      `${file}: ${(err as Error).message.split('\n')[0]}. Fix: restore the file from git (git checkout -- scripts/region)`,
    );
  }
  const r = regionFileSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new StartError(
      'REGION_INVALID',
      `${file}: ${i.path.join('.') || '(document)'}: ${i.message}. Fix: correct it, or restore the file from git`,
    );
  }
  const base = dirname(file);
  const region = r.data;
  return {
    ...region,
    file,
    intersection: { ...region.intersection, rig: join(base, region.intersection.rig) },
    buildings: region.buildings.map((b) => ({ ...b, rig: join(base, b.rig) })),
  };
}

export interface SitePlan {
  /** Site key: folder names, gateway names, claim token tags. */
  site: string;
  kind: 'intersection' | 'school' | 'care-home';
  name: string;
  rigFile: string;
  /** Rig name (and bench folder) for this run; buildings repeat with a number. */
  rigName: string;
  /** Added to the rig's seed so repeated buildings do not show the same numbers. */
  seedOffset: number;
}

/** The intersection, then `buildings` buildings cycling through the region's list. */
export function planSites(region: RegionFileWithPaths, buildings: number): SitePlan[] {
  const sites: SitePlan[] = [
    {
      site: region.intersection.site,
      kind: 'intersection',
      name: region.intersection.name,
      rigFile: region.intersection.rig,
      rigName: region.intersection.site,
      seedOffset: 0,
    },
  ];
  const seen = new Map<string, number>();
  for (let i = 0; i < buildings; i++) {
    const b = region.buildings[i % region.buildings.length]!;
    const n = (seen.get(b.kind) ?? 0) + 1;
    seen.set(b.kind, n);
    const site = n === 1 ? b.kind : `${b.kind}-${n}`;
    sites.push({
      site,
      kind: b.kind,
      name: n === 1 ? b.name : `${b.name} (${n})`,
      rigFile: b.rig,
      rigName: site,
      seedOffset: (n - 1) * 101,
    });
  }
  return sites;
}
