// A small client of the fleet server's HTTP API, used the way an operator's script would use it:
// bearer token, JSON in and out, errors turned into one line that names the call.
import { StartError } from './errors.ts';

export class FleetApiError extends StartError {
  constructor(
    readonly status: number,
    readonly call: string,
    readonly body: unknown,
  ) {
    const b = body as { error?: { message?: string; code?: string }; message?: string } | null;
    const detail = b?.error?.message ?? b?.message ?? JSON.stringify(body)?.slice(0, 200);
    super('PART_FAILED', `fleet API ${call} answered ${status}: ${detail}`);
  }
}

export class FleetClient {
  constructor(
    readonly baseUrl: string,
    private token: string | null = null,
    private cookie: string | null = null,
  ) {}

  useToken(token: string): void {
    this.token = token;
  }

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok)
      throw new FleetApiError(res.status, 'POST /api/v1/auth/login', await res.json().catch(() => null));
    const set = res.headers.getSetCookie?.() ?? [];
    this.cookie = set.map((c) => c.split(';')[0]).join('; ');
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    else if (this.cookie) headers.cookie = this.cookie;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) throw new FleetApiError(res.status, `${method} ${path}`, json);
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}
