// The local API on localhost for Node-RED and technicians: status, journal statistics, config
// state, and a WebSocket live stream of readings and events (`/api/live`). Read-only: nothing
// here can change what the gateway runs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocket, WebSocketServer } from 'ws';
import { GatewayError } from '../errors.ts';

export interface LocalApiSources {
  status: () => unknown;
  journal: () => unknown;
  config: () => unknown;
}

export interface LocalApi {
  url: string;
  port: number;
  /** Sends one JSON message to every live-stream client (slow clients are dropped, not waited for). */
  broadcast(message: unknown): void;
  clients(): number;
  close(): Promise<void>;
}

export const LIVE_PATH = '/api/live';

export function createLocalApiApp(sources: LocalApiSources): Hono {
  const app = new Hono();
  app.get('/api/status', (c) => c.json(sources.status() as object));
  app.get('/api/journal', (c) => c.json(sources.journal() as object));
  app.get('/api/config', (c) => c.json(sources.config() as object));
  app.notFound((c) =>
    c.json(
      {
        code: 'not-found',
        message: `no route ${c.req.method} ${c.req.path}`,
        fix: 'see /api/status, /api/journal, /api/config, /api/live',
      },
      404,
    ),
  );
  app.onError((err, c) => {
    const code = err instanceof GatewayError ? err.code : 'internal';
    return c.json(
      { code, message: err instanceof GatewayError ? err.message : 'internal error; see the agent log' },
      500,
    );
  });
  return app;
}

export async function startLocalApi(
  sources: LocalApiSources,
  port: number,
  host = '127.0.0.1',
): Promise<LocalApi> {
  const app = createLocalApiApp(sources);
  const wss = new WebSocketServer({ noServer: true });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server)) as Server;
    s.once('error', (err) =>
      reject(
        new GatewayError(
          `local API cannot listen on ${host}:${port} (${err.message}). Fix: choose another localApi.port`,
          {
            code: 'LOCAL_API_LISTEN',
            cause: err,
          },
        ),
      ),
    );
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.split('?')[0] !== LIVE_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    broadcast(message) {
      if (wss.clients.size === 0) return;
      const text = JSON.stringify(message);
      for (const ws of wss.clients) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        // A client that cannot keep up is cut off rather than buffering without bound.
        if (ws.bufferedAmount > 8 * 1024 * 1024) ws.terminate();
        else ws.send(text);
      }
    },
    clients: () => wss.clients.size,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
