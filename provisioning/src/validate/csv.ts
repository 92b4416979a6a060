import { CsvError, type CsvRow, parseCsv as readCsv } from '@brana/fleet-server/csv';
import { InvalidInputError } from '../errors.ts';

// The bulk pre-registration file, read with the fleet server's own CSV reader (RFC 4180: quoted
// fields, doubled quotes, CRLF or LF, blank lines skipped), so that the CLI names the line of a
// mistake before anything is sent and counts the gateways it will create.

export type { CsvRow };

export type CsvResult = { ok: true; rows: CsvRow[] } | { ok: false; line: number; problem: string };

export function parseCsv(text: string): CsvResult {
  try {
    return { ok: true, rows: readCsv(text) };
  } catch (err) {
    if (err instanceof CsvError)
      return { ok: false, line: err.line, problem: err.message.replace(/^line \d+ \(character \d+\): /, '') };
    throw err;
  }
}

/** Columns the fleet server's bulk import knows (POST /api/v1/claim-tokens/import). */
export const PREREGISTRATION_COLUMNS = ['name', 'site', 'group', 'tags', 'expiresInDays'] as const;

/** Checks a pre-registration file the way the server will, naming `file:line`; returns the row count. */
export function checkPreregistrationCsv(text: string, file: string): number {
  const r = parseCsv(text);
  if (!r.ok) throw new InvalidInputError(`${file}:${r.line}`, r.problem, 'correct the CSV at that line');
  const [header, ...body] = r.rows;
  const columns = `${PREREGISTRATION_COLUMNS.join(',')}`;
  if (!header) throw new InvalidInputError(file, 'is empty', `start with a header line: ${columns}`);
  const cols = header.fields.map((f) => f.trim());
  cols.forEach((c, i) => {
    if (!(PREREGISTRATION_COLUMNS as readonly string[]).includes(c)) {
      throw new InvalidInputError(
        `${file}:1`,
        `column ${i + 1} "${c}" is not known`,
        `use only these columns (any order): ${columns}`,
      );
    }
  });
  if (new Set(cols).size !== cols.length) {
    throw new InvalidInputError(`${file}:1`, 'a column is named twice', 'name each column once');
  }
  if (body.length === 0)
    throw new InvalidInputError(file, 'has a header but no gateways', 'add one line per gateway');
  for (const row of body) {
    if (row.fields.length !== cols.length) {
      throw new InvalidInputError(
        `${file}:${row.line}`,
        `${row.fields.length} fields, the header has ${cols.length}`,
        'give every line as many fields as the header (empty fields are fine: a,,c)',
      );
    }
    const days = row.fields[cols.indexOf('expiresInDays')]?.trim();
    if (days && !(Number(days) > 0 && Number(days) <= 365)) {
      throw new InvalidInputError(
        `${file}:${row.line}`,
        `expiresInDays "${days}" is not a number of days`,
        'use a number between 1 and 365, or leave it empty for 7',
      );
    }
  }
  return body.length;
}
