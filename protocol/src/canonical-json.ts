// Canonical JSON: the byte string both sides hash and sign.
// Object keys sorted by UTF-16 code units (as RFC 8785 JCS does), no whitespace, numbers as
// ECMAScript prints them (JCS uses the same algorithm). Anything JSON cannot carry is refused
// instead of being silently dropped, so a signature can never cover a value the peer cannot see.
import { CanonicalJsonError } from './errors.ts';

export function canonicalJson(value: unknown): string {
  return write(value, '');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `number ${value} has no JSON form; use null or a finite number`);
      }
      // -0 and 0 must serialise alike (JSON.stringify(-0) is "0").
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => write(item, `${path}[${i}]`)).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(
          path,
          `a ${proto?.constructor?.name ?? 'non-plain'} object has no canonical JSON form; convert it to a plain object or string first`,
        );
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], path ? `${path}.${k}` : k)}`).join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(path, `a ${typeof value} has no JSON form; remove it or convert it`);
  }
}
