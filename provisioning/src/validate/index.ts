// Pure checks of what a technician types: host names, durations, claim tokens, server URLs, CSV.
// Each throws InvalidInputError naming the flag (or file:line) and the fix.

export { CLAIM_TOKEN_PATTERN, isClaimToken, parseClaimToken, redact } from './claim-token.ts';
export {
  type CsvResult,
  type CsvRow,
  checkPreregistrationCsv,
  PREREGISTRATION_COLUMNS,
  parseCsv,
} from './csv.ts';
export { durationFlag, formatDurationS, parseDurationS } from './duration.ts';
export { HOSTNAME_MAX, hostnameProblem, isValidHostname, parseHostname } from './hostname.ts';
export { parseServerUrl, type ServerUrlOptions } from './server-url.ts';
