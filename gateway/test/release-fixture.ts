// Small signed releases for the update tests, and an HTTP proxy in front of a release server that
// misbehaves on request: cuts a body short, goes away mid-download, changes bytes. Both real: the
// releases are directories with a manifest signed by node:crypto Ed25519, the proxy a TCP server.
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { manifestText, type Platform, type ReleaseManifest, signManifest } from '@brana/release';

export const GUARD_PATH = 'dist/guard/brana-update-guard.mjs';

/** Writes a release directory with the given files and a manifest signed by `key`. */
export function writeRelease(
  dir: string,
  o: {
    version: string;
    platform: Platform;
    files: Record<string, string | Buffer>;
    key: KeyObject;
    manifest?: Partial<ReleaseManifest>;
  },
): ReleaseManifest {
  const files = { [GUARD_PATH]: '// guard\n', ...o.files };
  const entries = Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, content]) => {
      const full = join(dir, ...path.split('/'));
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
      const b = typeof content === 'string' ? Buffer.from(content) : content;
      return { path, size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
    });
  const first = entries[0]!.path;
  const manifest: ReleaseManifest = {
    version: o.version,
    platform: o.platform,
    node: '>=20.19.0 <21.0.0',
    configSchema: { min: 1, max: 1 },
    createdAt: '2026-03-01T10:00:00.000Z',
    source: { commit: 'fixture', dirty: false },
    entrypoints: { firmware: first, gateway: first, guard: GUARD_PATH },
    files: entries,
    ...o.manifest,
  };
  writeFileSync(join(dir, 'manifest.json'), manifestText(signManifest(manifest, o.key)));
  return manifest;
}

export type ProxyFault =
  | { kind: 'none' }
  /** Sends this many body bytes of the next file response, then breaks the connection. */
  | { kind: 'cut-after'; bytes: number }
  /** Like cut-after, and stops accepting connections until `restore()`. */
  | { kind: 'vanish-after'; bytes: number }
  /** Changes one byte of every file body. */
  | { kind: 'corrupt' };

export interface FaultyProxy {
  url: string;
  fault: ProxyFault;
  /** Requests seen (method path range). */
  log: string[];
  /** Called when a file request arrives (before forwarding). */
  onFileRequest?: () => void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const proxy: FaultyProxy = {
    url: '',
    fault: { kind: 'none' },
    log: [],
    restore: () => listen(),
    close: () => stop(),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    proxy.log.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const isFile = (req.url ?? '').includes('/releases/files/');
    if (isFile) proxy.onFileRequest?.();
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const fault = isFile ? proxy.fault : { kind: 'none' as const };
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (fault.kind === 'cut-after' || fault.kind === 'vanish-after') {
            const room = fault.bytes - sent;
            if (room <= 0) return;
            const part = chunk.subarray(0, room);
            sent += part.length;
            res.write(part);
            if (sent >= fault.bytes) {
              proxy.fault = { kind: 'none' };
              upRes.destroy();
              // Let the bytes leave before the connection breaks.
              setTimeout(() => {
                res.socket?.destroy();
                if (fault.kind === 'vanish-after') void stop();
              }, 20);
            }
            return;
          }
          if (fault.kind === 'corrupt' && sent === 0 && chunk.length > 0) {
            const c = Buffer.from(chunk);
            c[0] = c[0]! ^ 0xff;
            chunk = c;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  async function listen(): Promise<void> {
    server = createServer(handler);
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    proxy.url = `http://127.0.0.1:${port}`;
  }
  async function stop(): Promise<void> {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  await listen();
  return proxy;
}
