import { renderJsonSchema } from '../../profiles/index.ts';
import { rigSchema } from './schema.ts';

/** Where the generated JSON Schema of rig files lives, relative to the hardware package root. */
export const RIG_JSON_SCHEMA_PATH = 'rigs/rig.schema.json';

/** JSON Schema (draft 2020-12) of a rig file as an editor sees it (input side: defaults optional). */
export function renderRigJsonSchema(): string {
  return renderJsonSchema(rigSchema, 'rig.schema.json', 'Brána bench rig');
}
