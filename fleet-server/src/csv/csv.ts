// RFC 4180 CSV, read and written: quoted fields, doubled quotes, CRLF or LF. Reader errors carry
// the 1-based line and the character offset so a technician can find the spot in the file.
import { FleetError } from '../errors.ts';

export class CsvError extends FleetError {
  constructor(
    readonly line: number,
    readonly offset: number,
    message: string,
  ) {
    super('csv-invalid', 400, `line ${line} (character ${offset}): ${message}`, false, {
      path: `line ${line}`,
    });
  }
}

export interface CsvRow {
  /** 1-based line where the row starts */
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  // A byte order mark from a spreadsheet export is not part of the first column's name.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let quoted = false;
  let fieldStarted = false;
  const endField = () => {
    fields.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = () => {
    // A completely empty line is skipped, not read as a row with one empty field.
    const blank = fields.length === 0 && field === '' && !fieldStarted;
    endField();
    if (!blank) rows.push({ line: rowLine, fields });
    fields = [];
  };
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
          throw new CsvError(line, i, 'a closing quote must be followed by a comma or the end of the line');
        }
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (fieldStarted || field.length > 0) {
        throw new CsvError(
          line,
          i,
          'a quote inside an unquoted field; quote the whole field and double the inner quote',
        );
      }
      quoted = true;
      fieldStarted = true;
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
      fieldStarted = true;
      i++;
    }
  }
  if (quoted)
    throw new CsvError(rowLine, text.length, 'a quoted field is never closed; add the closing quote');
  if (field.length > 0 || fieldStarted || fields.length > 0) endRow();
  return rows;
}

/** One field: quoted when it holds a comma, a quote or a line break (quotes doubled). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CRLF-terminated lines (RFC 4180) that parseCsv reads back unchanged; null and undefined are
 * empty fields. A row of one empty field is written `""`, since an empty line is no row.
 */
export function formatCsv(rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  let out = '';
  for (const r of rows) {
    out +=
      r.length === 1 && (r[0] === '' || r[0] === null || r[0] === undefined)
        ? '""'
        : r.map((f) => (f === null || f === undefined ? '' : csvField(f))).join(',');
    out += '\r\n';
  }
  return out;
}
