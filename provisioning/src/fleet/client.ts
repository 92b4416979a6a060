// The fleet server's HTTP API as the technician's CLI uses it: sites and groups to resolve names,
// claim tokens one by one or from a CSV (fleet-server README, "API"). Authorisation is an API token
// (`Authorization: Bearer brt_…`) of a user with at least the technician role.
import { FleetApiError, InvalidInputError } from '../errors.ts';

export interface Site {
  id: string;
  name: string;
  kind?: string;
}
export interface Group {
  id: string;
  name: string;
}

/** What the server answers for each created claim token (the token is shown this once). */
export interface CreatedClaim {
  id: string;
  token: string;
  expiresAt: number;
  gatewayName: string | null;
  siteId: string | null;
  groupId: string | null;
  tags: string[];
}

export interface ClaimRequest {
  gatewayName?: string;
  siteId?: string;
  groupId?: string;
  tags?: string[];
  expiresInHours?: number;
}

export interface FleetClientOptions {
  baseUrl: string;
  token: string;
  /** Per request; the server answers in milliseconds, a slow link in seconds. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class FleetClient {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: FleetClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#fetch = options.fetch ?? fetch;
  }

  listSites(): Promise<Site[]> {
    return this.#request('GET', '/api/v1/sites');
  }

  listGroups(): Promise<Group[]> {
    return this.#request('GET', '/api/v1/groups');
  }

  createClaimToken(req: ClaimRequest): Promise<CreatedClaim> {
    return this.#request('POST', '/api/v1/claim-tokens', JSON.stringify(req), 'application/json');
  }

  importClaimTokensCsv(csv: string): Promise<CreatedClaim[]> {
    return this.#request('POST', '/api/v1/claim-tokens/import', csv, 'text/csv');
  }

  /** A site by id, or by name (case-insensitive); the error lists the sites there are. */
  async resolveSite(nameOrId: string): Promise<Site> {
    return pick(await this.listSites(), nameOrId, 'site', '--site');
  }

  async resolveGroup(nameOrId: string): Promise<Group> {
    return pick(await this.listGroups(), nameOrId, 'group', '--group');
  }

  async #request<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const url = this.#base + path;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(contentType ? { 'content-type': contentType } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw unreachable(this.#base, err);
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new FleetApiError(
          `${method} ${path}: the answer is not JSON`,
          'check that --server is the fleet server (not the console behind a proxy login page)',
          res.status,
          false,
          err,
        );
      }
    }
    throw httpError(method, path, res, text);
  }
}

function pick<T extends { id: string; name: string }>(
  all: T[],
  nameOrId: string,
  what: string,
  flag: string,
): T {
  const byId = all.find((x) => x.id === nameOrId);
  if (byId) return byId;
  const byName = all.filter((x) => x.name.toLowerCase() === nameOrId.toLowerCase());
  if (byName.length === 1) return byName[0]!;
  const known = all.map((x) => `"${x.name}"`);
  const list =
    known.length === 0
      ? `there are no ${what}s yet`
      : `known: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`;
  if (byName.length > 1) {
    throw new InvalidInputError(
      flag,
      `${byName.length} ${what}s are named "${nameOrId}"`,
      `give the ${what} id instead (${byName.map((x) => x.id).join(', ')})`,
    );
  }
  throw new InvalidInputError(
    flag,
    `no ${what} "${nameOrId}" on the server (${list})`,
    `give an existing ${what} name or id; a fleet operator creates ${what}s in the console`,
  );
}

function unreachable(base: string, err: unknown): FleetApiError {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError') {
    return new FleetApiError(
      `${base} did not answer in time`,
      'check the network and --server, then try again',
      undefined,
      true,
      err,
    );
  }
  const code = e.cause?.code ?? e.cause?.message ?? e.message ?? 'error';
  const tls = /CERT|SSL|TLS/i.test(code);
  return new FleetApiError(
    `cannot reach ${base} (${code})`,
    tls
      ? 'the server certificate is not trusted here; check the URL, or add the CA with NODE_EXTRA_CA_CERTS=<ca.pem>'
      : 'check --server (or BRANA_FLEET_URL) and that this laptop is online',
    undefined,
    true,
    err,
  );
}

function httpError(method: string, path: string, res: Response, text: string): FleetApiError {
  let body: { code?: string; message?: string; path?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not the fleet server's error shape (a proxy's HTML page); the status says enough.
  }
  const what = `${method} ${path}: ${res.status}${body.message ? ` ${body.message}` : ''}${body.path ? ` (${body.path})` : ''}`;
  switch (res.status) {
    case 401:
      return new FleetApiError(
        `${method} ${path}: the API token was refused`,
        'pass a valid API token with --token or BRANA_FLEET_TOKEN (create one in the console or with POST /api/v1/tokens)',
        401,
        false,
      );
    case 403:
      return new FleetApiError(what, "ask an admin to give the token's user the technician role", 403, false);
    case 404:
      return new FleetApiError(
        what,
        'check --server: it must be the fleet server base URL, without /api/v1',
        404,
        false,
      );
    case 429: {
      const after = res.headers.get('retry-after');
      return new FleetApiError(what, `wait ${after ?? 'a few'} seconds and try again`, 429, true);
    }
    default:
      if (res.status >= 500) {
        return new FleetApiError(
          what,
          'try again; if it persists the fleet operator should look at the server log',
          res.status,
          true,
        );
      }
      return new FleetApiError(what, 'correct the input named above', res.status, false);
  }
}
