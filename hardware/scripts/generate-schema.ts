// Writes the JSON Schemas generated from the zod schemas (`npm run schema -w @brana/hardware`).
// Run it after changing src/profiles/schema.ts or src/boards/schema.ts; a test fails while they are stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOARD_PROFILE_JSON_SCHEMA_PATH, renderBoardProfileJsonSchema } from '../src/boards/json-schema.ts';
import {
  DEVICE_PROFILE_JSON_SCHEMA_PATH,
  renderDeviceProfileJsonSchema,
} from '../src/profiles/json-schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outputs: [string, string][] = [
  [DEVICE_PROFILE_JSON_SCHEMA_PATH, renderDeviceProfileJsonSchema()],
  [BOARD_PROFILE_JSON_SCHEMA_PATH, renderBoardProfileJsonSchema()],
];
for (const [path, text] of outputs) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
