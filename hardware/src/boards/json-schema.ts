import { z } from 'zod';
import { boardProfileSchema } from './schema.ts';

/** Where the generated board JSON Schema lives, relative to the hardware package root. */
export const BOARD_PROFILE_JSON_SCHEMA_PATH = 'schema/board-profile.schema.json';

/** JSON Schema (draft 2020-12) of a board profile file, input side. */
export function renderBoardProfileJsonSchema(): string {
  const schema = z.toJSONSchema(boardProfileSchema, { io: 'input', target: 'draft-2020-12' });
  const doc = {
    $schema: schema.$schema,
    $id: 'https://brana.example/schema/board-profile.schema.json',
    title: 'Brána board profile',
    ...schema,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
