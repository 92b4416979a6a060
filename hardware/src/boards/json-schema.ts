import { renderJsonSchema } from '../profiles/index.ts';
import { boardProfileSchema } from './schema.ts';

/** Where the generated board JSON Schema lives, relative to the hardware package root. */
export const BOARD_PROFILE_JSON_SCHEMA_PATH = 'schema/board-profile.schema.json';

/** JSON Schema (draft 2020-12) of a board profile file, input side. */
export function renderBoardProfileJsonSchema(): string {
  return renderJsonSchema(boardProfileSchema, 'board-profile.schema.json', 'Brána board profile');
}
