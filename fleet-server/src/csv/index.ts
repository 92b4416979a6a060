// CSV as operators exchange it with the fleet server: the one reader (bulk pre-registration) and
// the one writer (exports). Also `@brana/fleet-server/csv`: brana-provision checks files with it.
export { CsvError, type CsvRow, csvField, formatCsv, parseCsv } from './csv.ts';
