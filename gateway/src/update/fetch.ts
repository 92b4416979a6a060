// The gateway's side of the release HTTP contract (CONTRACTS.md "Releases over HTTP"):
//   GET <base>/releases/<version>/manifest?platform=<platform>   the signed manifest
//   GET <base>/releases/files/<sha256>                           one file, content-addressed
// Downloads resume with a Range request where the last one stopped; what arrives is trusted only
// after its SHA-256 matches the signed manifest. Errors come back typed: a refusal (the release is
// not there, or not what it says) or a failure another attempt may fix (server gone, cut short).
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { finished } from 'node:stream/promises';
import { digestFile, MANIFEST_LIMITS } from '@brana/release';
import { UpdateFetchError, UpdateRefusedError } from './errors.ts';

export interface FetcherOptions {
  /** The server's base URL (the fleet server, or a site's `brana-release serve`). */
  baseUrl: string;
  /** Signs a request (the gateway's identity headers) when the server wants to know who asks. */
  sign?: (method: string, path: string) => Record<string, string>;
  /** A connection that goes quiet this long is given up (default 30 s). */
  idleTimeoutMs?: number;
}

interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

export class ReleaseFetcher {
  readonly #o: FetcherOptions;
  readonly #base: URL;

  constructor(options: FetcherOptions) {
    this.#o = options;
    this.#base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') {
      throw new UpdateRefusedError('not-installable', `release server ${options.baseUrl} is not http(s)`);
    }
  }

  /** The signed manifest document's text. */
  async manifest(version: string, platform: string): Promise<string> {
    const path = `releases/${encodeURIComponent(version)}/manifest?platform=${encodeURIComponent(platform)}`;
    const res = await this.#get(path, {});
    if (res.status === 404) {
      res.body.resume();
      throw new UpdateRefusedError(
        'not-found',
        `the server has no release ${version} for ${platform} (404 from ${this.#url(path)})`,
      );
    }
    this.#checkStatus(res, path, [200]);
    const chunks: Buffer[] = [];
    let bytes = 0;
    await this.#consume(res, path, (b) => {
      bytes += b.length;
      if (bytes > MANIFEST_LIMITS.documentBytes) {
        res.body.destroy();
        throw new UpdateRefusedError(
          'malformed-manifest',
          `the manifest of ${version} is over ${MANIFEST_LIMITS.documentBytes} bytes`,
        );
      }
      chunks.push(b);
    });
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared !== bytes) {
      throw new UpdateFetchError(
        'truncated',
        `the manifest of ${version} ended after ${bytes} of ${declared} bytes`,
      );
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Fetches one file to `dest` (through `dest`.partial, resumed from where an earlier attempt
   * stopped). Resolves once the whole file is there with the expected size and SHA-256.
   */
  async file(sha256: string, size: number, dest: string, onBytes?: (n: number) => void): Promise<void> {
    const partial = `${dest}.partial`;
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > size) {
      rmSync(partial, { force: true });
      have = 0;
    }
    if (have < size || size === 0) {
      const path = `releases/files/${sha256}`;
      const res = await this.#get(path, have > 0 ? { range: `bytes=${have}-` } : {});
      if (res.status === 404) {
        res.body.resume();
        throw new UpdateRefusedError(
          'not-found',
          `the server has no file ${sha256} (404), though the manifest lists it`,
        );
      }
      if (res.status === 416) {
        // Our partial file is no prefix the server knows: start again.
        res.body.resume();
        rmSync(partial, { force: true });
        throw new UpdateFetchError(
          'truncated',
          `the server refused to resume ${sha256.slice(0, 12)}… at byte ${have}; starting it again`,
        );
      }
      this.#checkStatus(res, path, [200, 206]);
      let append = false;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== have || (m[3] !== '*' && Number(m[3]) !== size)) {
          res.body.resume();
          rmSync(partial, { force: true });
          throw new UpdateFetchError(
            'server-error',
            `the server answered the range request for ${sha256.slice(0, 12)}… with "${res.headers['content-range']}"`,
          );
        }
        append = true;
      }
      const expected = size - (append ? have : 0);
      const out = createWriteStream(partial, { flags: append ? 'a' : 'w', mode: 0o644 });
      let writeError: NodeJS.ErrnoException | undefined;
      out.on('error', (err) => {
        writeError = err;
        res.body.destroy();
      });
      let got = 0;
      try {
        await this.#consume(res, path, async (b) => {
          got += b.length;
          if (got > expected)
            throw new UpdateRefusedError(
              'tampered-file',
              `the server sent more than the ${size} bytes of ${sha256.slice(0, 12)}…`,
            );
          onBytes?.(b.length);
          if (!out.write(b)) {
            await new Promise<void>((r) => {
              out.once('drain', r);
              out.once('error', () => r());
            });
          }
          if (writeError) throw diskError(writeError, partial);
        });
      } catch (err) {
        if (writeError) throw diskError(writeError, partial);
        throw err;
      } finally {
        if (!out.destroyed) out.end();
        // Data buffered in the stream reaches the disk only now: a full disk may show here first.
        await finished(out).catch((err: NodeJS.ErrnoException) => {
          writeError ??= err;
        });
      }
      if (writeError) throw diskError(writeError, partial);
      if (got < expected) {
        throw new UpdateFetchError(
          'truncated',
          `${sha256.slice(0, 12)}… ended after ${got} of ${expected} bytes; it resumes from there`,
        );
      }
    }
    const digest = (await digestFile(partial)).sha256;
    if (digest !== sha256) {
      rmSync(partial, { force: true });
      throw new UpdateRefusedError(
        'tampered-file',
        `the file the server sent for ${sha256.slice(0, 12)}… hashes to ${digest.slice(0, 12)}…: not what the signed manifest lists`,
      );
    }
    renameSync(partial, dest);
  }

  #url(path: string): URL {
    return new URL(path, this.#base);
  }

  #checkStatus(res: Response, path: string, ok: number[]): void {
    if (ok.includes(res.status)) return;
    res.body.resume();
    const url = this.#url(path);
    if (res.status === 429 || res.status === 503) {
      const retryAfterS = Number(res.headers['retry-after']);
      throw new UpdateFetchError(
        'rate-limited',
        `${url.pathname}: the server answered ${res.status} (busy)`,
        {
          ...(Number.isFinite(retryAfterS) ? { retryAfterMs: retryAfterS * 1000 } : {}),
        },
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new UpdateRefusedError(
        'not-installable',
        `${url.pathname}: the server refused this gateway (${res.status}); check its enrolment`,
      );
    }
    throw new UpdateFetchError('server-error', `${url.pathname}: the server answered ${res.status}`);
  }

  #get(path: string, headers: Record<string, string>): Promise<Response> {
    const url = this.#url(path);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const signed = this.#o.sign?.('GET', `${url.pathname}${url.search}`) ?? {};
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', headers: { ...signed, ...headers, accept: '*/*' } }, (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.setTimeout(this.#o.idleTimeoutMs ?? 30_000, () =>
        req.destroy(
          new UpdateFetchError(
            'timeout',
            `${url.host}: no answer within ${(this.#o.idleTimeoutMs ?? 30_000) / 1000} s`,
          ),
        ),
      );
      req.on('error', (err) => reject(networkError(err, url)));
      req.end();
    });
  }

  /** Reads a response body through `each`; a connection that breaks or goes quiet is typed. */
  async #consume(res: Response, path: string, each: (b: Buffer) => void | Promise<void>): Promise<void> {
    const url = this.#url(path);
    const idleMs = this.#o.idleTimeoutMs ?? 30_000;
    res.body.setTimeout?.(idleMs, () =>
      res.body.destroy(
        new UpdateFetchError('timeout', `${url.pathname}: the download stalled for ${idleMs / 1000} s`),
      ),
    );
    try {
      for await (const chunk of res.body) await each(chunk as Buffer);
    } catch (err) {
      if (err instanceof UpdateFetchError || err instanceof UpdateRefusedError) throw err;
      throw networkError(err as Error, url);
    }
    // A body cut short without an error still says so: the socket closed before the end.
    if (!res.body.complete)
      throw new UpdateFetchError(
        'truncated',
        `${url.pathname}: the connection closed before the end of the body`,
      );
  }
}

function networkError(err: Error, url: URL): Error {
  if (err instanceof UpdateFetchError || err instanceof UpdateRefusedError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new UpdateFetchError('truncated', `${url.host}: the connection broke (${code})`, { cause: err });
  }
  return new UpdateFetchError('server-unreachable', `${url.host}: ${code}`, { cause: err });
}

/** A write that failed for want of space becomes a disk-full refusal (and gives its bytes back). */
export function diskError(err: NodeJS.ErrnoException, file: string): Error {
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
    rmSync(file, { recursive: true, force: true });
    return new UpdateRefusedError(
      'disk-full',
      `no space left on the device writing ${file}; free some space and try again`,
      err,
    );
  }
  return err;
}
