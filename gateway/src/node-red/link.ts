// The agent's end of the Node-RED link: a Unix socket the launcher connects to and writes one JSON
// object per line (hello, listening, log, flows, deploy, dropped). One launcher at a time: a new
// connection replaces the old one. Lines are bounded and checked; a bad line is counted, never
// trusted, and never stops the agent.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';

const nodeRefSchema = z.object({
  id: z.string().max(200),
  type: z.string().max(200),
  name: z.string().max(500).optional(),
  z: z.string().max(200).optional(),
});
export type NodeRef = z.infer<typeof nodeRefSchema>;

export const linkMessageSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'),
    pid: z.int().positive(),
    startedAtMs: z.number(),
    nodeRedVersion: z.string().max(64),
    nodeVersion: z.string().max(64),
    heapLimitMb: z.number(),
  }),
  z.object({ t: z.literal('listening'), host: z.string().max(100), port: z.int().min(1).max(65535) }),
  z.object({
    t: z.literal('log'),
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    msg: z.string().max(4000),
    at: z.number(),
    node: nodeRefSchema.optional(),
  }),
  z.object({
    t: z.literal('flows'),
    state: z.enum(['started', 'stopped', 'blocked']),
    rev: z.string().max(128).optional(),
    nodes: z.int().nonnegative().optional(),
    notStarted: z.array(nodeRefSchema).max(5000).optional(),
    /** For "blocked": missing-types, missing-modules, credentials_load_failed, … */
    error: z.string().max(200).optional(),
    types: z.array(z.string().max(200)).max(1000).optional(),
  }),
  z.object({ t: z.literal('deploy'), rev: z.string().max(128).optional() }),
  z.object({ t: z.literal('dropped'), count: z.int().nonnegative() }),
]);
export type LinkMessage = z.infer<typeof linkMessageSchema>;

/** Longest line accepted; a log line is cut to 2,000 characters by the launcher. */
export const MAX_LINK_LINE = 64 * 1024;

export interface NodeRedLinkOptions {
  socketPath: string;
  onMessage: (m: LinkMessage) => void;
  onConnect?: () => void;
  onDisconnect?: () => void;
}

export interface NodeRedLink {
  connected(): boolean;
  /** Lines that were too long, not JSON or not a known message. */
  badLines(): number;
  close(): Promise<void>;
}

export async function listenNodeRedLink(o: NodeRedLinkOptions): Promise<NodeRedLink> {
  let current: Socket | undefined;
  let bad = 0;
  rmSync(o.socketPath, { force: true });
  const server: Server = createServer((socket) => {
    current?.destroy();
    current = socket;
    o.onConnect?.();
    let buffered = '';
    let skipping = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let text = buffered + chunk;
      buffered = '';
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (skipping) {
          skipping = false;
          continue;
        }
        handle(line);
      }
      if (text.length > MAX_LINK_LINE) {
        bad++;
        skipping = true;
      } else if (!skipping) buffered = text;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (current === socket) {
        current = undefined;
        o.onDisconnect?.();
      }
    });
  });
  const handle = (line: string) => {
    if (line.length === 0) return;
    if (line.length > MAX_LINK_LINE) {
      bad++;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      bad++;
      return;
    }
    const parsed = linkMessageSchema.safeParse(json);
    if (!parsed.success) {
      bad++;
      return;
    }
    o.onMessage(parsed.data);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Group access: on a Pi, Node-RED runs as its own user in the agent's group.
  chmodSync(o.socketPath, 0o660);
  return {
    connected: () => current !== undefined,
    badLines: () => bad,
    close: () =>
      new Promise<void>((resolve) => {
        current?.destroy();
        server.close(() => resolve());
      }),
  };
}
