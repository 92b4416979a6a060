import { InvalidInputError } from '../errors.ts';

// Host names as RFC 1123 section 2.1 allows them (RFC 952 relaxed: a label may start with a digit):
// dot-separated labels of 1-63 letters, digits and hyphens, never starting or ending with a hyphen,
// 253 characters at most. The gateway sets the first label as its hostname and the whole as its FQDN.

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const HOSTNAME_MAX = 253;

/** Why `name` is not a valid host name, or undefined when it is. */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > HOSTNAME_MAX)
    return `is ${name.length} characters long; at most ${HOSTNAME_MAX} are allowed`;
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (label.length === 0) return `has an empty label at position ${i + 1} (two dots, or a dot at an end)`;
    if (label.length > 63) return `label "${label.slice(0, 20)}…" is ${label.length} characters; at most 63`;
    if (!LABEL.test(label)) {
      return `label "${label}" may hold only letters, digits and "-", and must not start or end with "-"`;
    }
  }
  // A name that is all digits and dots would be read as an IPv4 address.
  if (/^[0-9.]+$/.test(name)) return 'is all digits, which reads as an IP address';
  return undefined;
}

export function isValidHostname(name: string): boolean {
  return hostnameProblem(name) === undefined;
}

/** Returns the host name lower-cased (host names are case-insensitive) or throws naming the flag. */
export function parseHostname(name: string, where = '--hostname'): string {
  const problem = hostnameProblem(name);
  if (problem) {
    throw new InvalidInputError(
      where,
      `"${name}" ${problem}`,
      'use letters, digits and "-" (RFC 1123), e.g. zs-komenskeho-01',
    );
  }
  return name.toLowerCase();
}
