import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, formatCsv, parseCsv } from './index.ts';

describe('parseCsv', () => {
  it('reads back what formatCsv writes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é') }), {
            minLength: 1,
            maxLength: 5,
          }),
          {
            maxLength: 8,
          },
        ),
        (rows) => {
          const parsed = parseCsv(formatCsv(rows)).map((r) => r.fields);
          expect(parsed).toStrictEqual(rows);
        },
      ),
    );
  });

  it('never throws anything but CsvError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r') }), (text) => {
        try {
          parseCsv(text);
        } catch (e) {
          return e instanceof CsvError;
        }
        return true;
      }),
    );
  });

  it('handles quotes, CRLF and empty lines, and names the line of an error', () => {
    expect(parseCsv('name,site\r\n"a, ""b""",x\r\n\r\nc,\n')).toStrictEqual([
      { line: 1, fields: ['name', 'site'] },
      { line: 2, fields: ['a, "b"', 'x'] },
      { line: 4, fields: ['c', ''] },
    ]);
    expect(() => parseCsv('a,b\nc,d"e\n')).toThrow('line 2 (character 7)');
    expect(() => parseCsv('a,"b\n')).toThrow('never closed');
  });
});
