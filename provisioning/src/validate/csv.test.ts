import { formatCsv } from '@brana/fleet-server/csv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPreregistrationCsv, parseCsv } from './csv.ts';

const field = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', ',', '"', '\n', '\r\n', ';', 'ř') });
// A row of one empty field is written as "" so it is not a blank (skipped) line.
const rows = fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 8 });

describe('CSV for bulk pre-registration', () => {
  it('reads back exactly what formatCsv wrote, whatever the fields hold', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const r = parseCsv(formatCsv(rs));
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.rows.map((x) => x.fields)).toEqual(rs);
      }),
    );
  });

  it('gives each row the line it starts on, counting newlines inside quotes', () => {
    const r = parseCsv('name,tags\n"a\nb",x\n\nc,y\r\n');
    expect(r).toEqual({
      ok: true,
      rows: [
        { line: 1, fields: ['name', 'tags'] },
        { line: 2, fields: ['a\nb', 'x'] },
        { line: 5, fields: ['c', 'y'] },
      ],
    });
  });

  it('never throws on arbitrary text, and fails with a line number inside the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r') }), (text) => {
        const r = parseCsv(text);
        if (!r.ok) {
          expect(r.line).toBeGreaterThanOrEqual(1);
          expect(r.line).toBeLessThanOrEqual(text.split(/\r\n|\r|\n/).length);
        }
      }),
    );
    expect(parseCsv('a,"b"c\n')).toMatchObject({ ok: false, line: 1 });
    expect(parseCsv('x\na,b"c\n')).toMatchObject({ ok: false, line: 2 });
    expect(parseCsv('a,"open\n')).toMatchObject({ ok: false });
  });

  it('checks columns, field counts and days the way the server will, naming file:line', () => {
    expect(checkPreregistrationCsv('\ufeffname,site,group\ngw-1,School,Schools\ngw-2,,\n', 'g.csv')).toBe(2);
    expect(() => checkPreregistrationCsv('name,room\n', 'g.csv')).toThrow(
      /g\.csv:1: column 2 "room" is not known/,
    );
    expect(() => checkPreregistrationCsv('name,site\ngw,S,extra\n', 'g.csv')).toThrow(/g\.csv:2: 3 fields/);
    expect(() => checkPreregistrationCsv('name,expiresInDays\ngw,soon\n', 'g.csv')).toThrow(
      /g\.csv:2: expiresInDays/,
    );
    expect(() => checkPreregistrationCsv('name\n', 'g.csv')).toThrow(/no gateways/);
    expect(() => checkPreregistrationCsv('', 'g.csv')).toThrow(/is empty/);
  });
});
