import { InvalidInputError } from '../errors.ts';

// The fleet server's base URL. Claim tokens and API tokens travel to it, so plain http is accepted
// only for a server on this machine (bench, npm start) unless the technician says otherwise.

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export interface ServerUrlOptions {
  /** Accept http:// to a host that is not this machine. */
  allowHttp?: boolean;
}

/** The base URL without a trailing slash; throws naming the flag and the fix. */
export function parseServerUrl(text: string, where = '--server', options: ServerUrlOptions = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(
      where,
      `"${text}" is not a URL`,
      'give the fleet server base URL, e.g. https://fleet.example.org',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(where, `${url.protocol} is not http or https`, 'use https://<fleet server>');
  }
  if (url.username || url.password) {
    throw new InvalidInputError(
      where,
      'the URL carries a user name or password',
      'remove them; pass the API token with --token',
    );
  }
  if (url.search || url.hash) {
    throw new InvalidInputError(
      where,
      'the URL has a query or fragment',
      'give only the base URL, e.g. https://fleet.example.org',
    );
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !options.allowHttp) {
    throw new InvalidInputError(
      where,
      `http://${url.host} would send tokens unencrypted`,
      'use https://, or pass --allow-http for a test server on a closed network',
    );
  }
  return url.toString().replace(/\/+$/, '');
}
