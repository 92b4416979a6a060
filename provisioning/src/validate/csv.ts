import { InvalidInputError } from '../errors.ts';

// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF; blank lines skipped) for the bulk
// pre-registration file. The fleet server parses the file again; reading it here first lets the
// CLI name the line of a mistake before anything is sent and count the gateways it will create.

export interface CsvRow {
  /** 1-based line where the row starts. */
  line: number;
  fields: string[];
}

export type CsvResult = { ok: true; rows: CsvRow[] } | { ok: false; line: number; problem: string };

export function parseCsv(text: string): CsvResult {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let started = false;
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endField = () => {
    fields.push(field);
    field = '';
    started = false;
  };
  const endRow = () => {
    const blank = fields.length === 0 && field === '' && !started;
    endField();
    if (!blank) rows.push({ line: rowLine, fields });
    fields = [];
  };
  // A byte order mark from a spreadsheet export is not part of the first column's name.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          return {
            ok: false,
            line,
            problem: 'a closing quote must be followed by a comma or the end of the line',
          };
        }
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (started || field.length > 0) {
        return {
          ok: false,
          line,
          problem: 'a quote inside an unquoted field; quote the whole field and double the inner quote',
        };
      }
      quoted = true;
      started = true;
      i++;
    } else if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) return { ok: false, line: rowLine, problem: 'a quoted field is not closed' };
  if (field !== '' || fields.length > 0 || started) endRow();
  return { ok: true, rows };
}

/** Writes rows as CSV, quoting only the fields that need it. */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f);
  return rows.map((r) => r.map(quote).join(',')).join('\n') + (rows.length > 0 ? '\n' : '');
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
