import { z } from 'zod';
import { rigSchema } from './schema.ts';

/** Where the generated JSON Schema of rig files lives, relative to the hardware package root. */
export const RIG_JSON_SCHEMA_PATH = 'rigs/rig.schema.json';

/** JSON Schema (draft 2020-12) of a rig file as an editor sees it (input side: defaults optional). */
export function renderRigJsonSchema(): string {
  const schema = z.toJSONSchema(rigSchema, { io: 'input', target: 'draft-2020-12' });
  const doc = {
    $schema: schema.$schema,
    $id: 'https://brana.example/schema/rig.schema.json',
    title: 'Brána bench rig',
    ...schema,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
