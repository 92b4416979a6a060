// A release server speaking the HTTP contract of CONTRACTS.md ("Releases over HTTP"): the signed
// manifest of a version for a platform, and files by SHA-256 with range requests. `brana-release
// serve` runs it for a site without a link to the fleet (a laptop on the site's network) and the
// tests run it as the server a gateway downloads from; the fleet server implements the same paths.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { releaseManifestSchema, type SignedManifest, signedManifestSchema } from '../manifest/manifest.ts';

export interface ServedRelease {
  version: string;
  platform: string;
  files: number;
  bytes: number;
}

export interface ReleaseServerStats {
  requests: number;
  manifests: number;
  files: number;
  /** Body bytes sent (files and manifests). */
  bytesSent: number;
  rangeRequests: number;
  notFound: number;
}

export interface ReleaseServer {
  url: string;
  releases(): ServedRelease[];
  stats(): ReleaseServerStats;
  /** Adds a release directory (with its signed manifest.json) to what is served. */
  add(dir: string): ServedRelease;
  close(): Promise<void>;
}

export interface ReleaseServerOptions {
  dirs: readonly string[];
  host?: string;
  port?: number;
}

const SHA = /^[0-9a-f]{64}$/;

export async function serveReleases(o: ReleaseServerOptions): Promise<ReleaseServer> {
  const manifests = new Map<string, { text: string; release: ServedRelease }>();
  const files = new Map<string, { path: string; size: number }>();
  const stats: ReleaseServerStats = {
    requests: 0,
    manifests: 0,
    files: 0,
    bytesSent: 0,
    rangeRequests: 0,
    notFound: 0,
  };

  const add = (dir: string): ServedRelease => {
    const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const envelope = signedManifestSchema.parse(JSON.parse(text));
    const m = releaseManifestSchema.parse(envelope.manifest) as SignedManifest['manifest'];
    for (const f of m.files)
      if (!files.has(f.sha256)) files.set(f.sha256, { path: join(dir, ...f.path.split('/')), size: f.size });
    const release = {
      version: m.version,
      platform: m.platform,
      files: m.files.length,
      bytes: m.files.reduce((n, f) => n + f.size, 0),
    };
    manifests.set(`${m.version}/${m.platform}`, { text, release });
    return release;
  };
  for (const d of o.dirs) add(d);

  const server: Server = createServer((req, res) => {
    stats.requests++;
    try {
      handle(req, res);
    } catch (err) {
      send(res, 500, { code: 'internal', message: (err as Error).message });
    }
  });

  function send(res: ServerResponse, status: number, body: { code: string; message: string }): void {
    if (status === 404) stats.notFound++;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, { code: 'method-not-allowed', message: 'only GET and HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://release-server');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts.length === 1 && parts[0] === 'releases') {
      const text = JSON.stringify([...manifests.values()].map((m) => m.release));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (parts.length === 3 && parts[0] === 'releases' && parts[2] === 'manifest') {
      const version = decodeURIComponent(parts[1]!);
      const platform = url.searchParams.get('platform');
      const candidates = [...manifests.entries()].filter(([k]) => k.startsWith(`${version}/`));
      const hit = platform
        ? manifests.get(`${version}/${platform}`)
        : candidates.length === 1
          ? candidates[0]![1]
          : undefined;
      if (!hit) {
        send(res, 404, {
          code: 'release-not-found',
          message: `no release ${version}${platform ? ` for ${platform}` : ''}${!platform && candidates.length > 1 ? ' (several platforms: add ?platform=)' : ''}`,
        });
        return;
      }
      stats.manifests++;
      const body = Buffer.from(hit.text, 'utf8');
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': body.length,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      stats.bytesSent += body.length;
      res.end(body);
      return;
    }
    if (parts.length === 3 && parts[0] === 'releases' && parts[1] === 'files' && SHA.test(parts[2]!)) {
      const f = files.get(parts[2]!);
      if (!f) {
        send(res, 404, { code: 'file-not-found', message: `no file ${parts[2]}` });
        return;
      }
      sendFile(req, res, parts[2]!, f);
      return;
    }
    send(res, 404, {
      code: 'not-found',
      message: `${url.pathname}: see /releases/<version>/manifest and /releases/files/<sha256>`,
    });
  }

  function sendFile(
    req: IncomingMessage,
    res: ServerResponse,
    sha: string,
    f: { path: string; size: number },
  ): void {
    const size = statSync(f.path).size;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: `"${sha}"`,
      // Content-addressed: the bytes behind a hash never change.
      'cache-control': 'public, max-age=31536000, immutable',
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    // One range of the form bytes=a- or bytes=a-b; anything else gets the whole file (RFC 9110 allows it).
    const m = typeof range === 'string' ? /^bytes=(\d+)-(\d*)$/.exec(range.trim()) : null;
    if (m) {
      stats.rangeRequests++;
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(Number(m[2]), size - 1);
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = size === 0 ? 0 : end - start + 1;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    stats.files++;
    const stream = createReadStream(f.path, { start, end });
    stream.on('data', (chunk) => {
      stats.bytesSent += (chunk as Buffer).length;
    });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    releases: () => [...manifests.values()].map((m) => m.release),
    stats: () => ({ ...stats }),
    add,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
