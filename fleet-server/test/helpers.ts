// Shared by the end-to-end tests: a real fleet server on port 0 with a SQLite file in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigValidator } from '../src/configs/index.ts';
import type { Role } from '../src/core/index.ts';
import { type FleetServer, type FleetServerOptions, startFleetServer } from '../src/server.ts';

export interface TestServer extends FleetServer {
  dir: string;
  dbPath: string;
  /** A bearer token for a new user with this role. */
  tokenFor(role: Role): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely and assert on them
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

let userCounter = 0;

/** `validateConfig` undefined: the real @brana/firmware validator. */
export async function startTestServer(
  validateConfig: ConfigValidator | undefined,
  options: Partial<FleetServerOptions> & { dir?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'brana-fleet-'));
  const dbPath = join(dir, 'fleet.db');
  const server = await startFleetServer({
    dbPath,
    port: 0,
    ...(validateConfig ? { validateConfig } : {}),
    ...options,
  });
  const call: TestServer['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(server.url + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: res.status, body: parsed };
  };
  return {
    ...server,
    dir,
    dbPath,
    call,
    async tokenFor(role: Role) {
      const u = await server.createUser(
        `${role.toLowerCase()}${++userCounter}`,
        role,
        'correct horse battery',
      );
      const { createApiToken } = await import('../src/auth/index.ts');
      return createApiToken(server.fleet.database.db, u.id, 'test', null, 'test').token;
    },
    async stop() {
      await server.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** For tests that never store a config: any config is refused, loudly. */
export const refuseAllConfigs: ConfigValidator = () => ({
  ok: false,
  errors: [{ path: '', message: 'this test server accepts no config', fix: 'use the firmware validator' }],
});

/**
 * Retries `fn` until it stops throwing. The default deadline matches SimulatedGateway.waitFor:
 * a rollout round trip that takes 1 s on an idle machine took several on a loaded 2-core CI box.
 */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      if (Date.now() > end) throw last;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
