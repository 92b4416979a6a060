import { z } from 'zod';
import { deviceProfileSchema } from './schema.ts';

/** Where the generated JSON Schema lives, relative to the hardware package root. */
export const DEVICE_PROFILE_JSON_SCHEMA_PATH = 'schema/device-profile.schema.json';

/**
 * JSON Schema (draft 2020-12) of a device profile file as an editor sees it: the input side, so
 * fields with defaults are optional. Stable text so the committed file can be checked for staleness.
 */
export function renderDeviceProfileJsonSchema(): string {
  const schema = z.toJSONSchema(deviceProfileSchema, { io: 'input', target: 'draft-2020-12' });
  const doc = {
    $schema: schema.$schema,
    $id: 'https://brana.example/schema/device-profile.schema.json',
    title: 'Brána device profile',
    ...schema,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
