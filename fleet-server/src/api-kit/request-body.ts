// The raw body of a request, read under a size limit. Under @hono/node-server it comes straight
// from Node's IncomingMessage: the telemetry route takes one 55 kB batch after another, and
// Hono's bodyLimit plus c.req.text() first wrap the socket in a web Request and ReadableStream.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { PayloadTooLargeError } from '../errors.ts';

export async function readBodyLimited(c: Context, maxBytes: number): Promise<Buffer> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) {
    // app.request() in tests, or another adapter: the web Request is all there is.
    const body = Buffer.from(await c.req.arrayBuffer());
    if (body.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
    return body;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | null) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('aborted', onAborted);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      // A chunked body has no content-length to refuse up front.
      if (size > maxBytes) {
        done(new PayloadTooLargeError(maxBytes));
        // Read the rest to nowhere: a paused request never ends, and its keep-alive connection
        // would hang after the 413 until the server's request timeout.
        incoming.resume();
      } else chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onError = (error: Error) => done(error);
    const onAborted = () => done(new Error('the client closed the request before sending the whole body'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('aborted', onAborted);
  });
}
