import { z } from 'zod';
import { deviceProfileSchema } from './schema.ts';

/** Where the generated JSON Schema lives, relative to the hardware package root. */
export const DEVICE_PROFILE_JSON_SCHEMA_PATH = 'schema/device-profile.schema.json';

/**
 * JSON Schema (draft 2020-12) of a YAML file kind as an editor sees it: the input side, so fields
 * with defaults are optional. Stable text so a committed file can be checked for staleness. Shared
 * by device profiles, board profiles and rig files.
 */
export function renderJsonSchema(schema: z.ZodType, fileName: string, title: string): string {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  const doc = {
    $schema: json.$schema,
    $id: `https://brana.example/schema/${fileName}`,
    title,
    ...json,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** JSON Schema of a device profile file. */
export function renderDeviceProfileJsonSchema(): string {
  return renderJsonSchema(deviceProfileSchema, 'device-profile.schema.json', 'Brána device profile');
}
