import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LinkMessage, listenNodeRedLink, MAX_LINK_LINE, type NodeRedLink } from './link.ts';

let link: NodeRedLink | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await link?.close();
  link = undefined;
});

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect(path, () => resolve(s));
    sockets.push(s);
  });
}

describe('Node-RED link', () => {
  it('takes known messages, counts and skips the rest (garbage, unknown kinds, over-long lines) and goes on', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'brana-link-')), 'l.sock');
    const got: LinkMessage[] = [];
    link = await listenNodeRedLink({ socketPath: path, onMessage: (m) => got.push(m) });
    const s = await open(path);
    s.write('{"t":"listening","host":"127.0.0.1","port":1880}\nnot json\n{"t":"rm -rf"}\n');
    s.write(`{"t":"log","level":"info","msg":"${'x'.repeat(MAX_LINK_LINE + 10)}`);
    s.write(
      '","at":1}\n{"t":"log","level":"warn","msg":"kept","at":2,"node":{"id":"n1","type":"function"}}\n',
    );
    s.write('{"t":"listening","host":"127.0.0.1","port":0}\n');
    await until(() => got.length === 2 && (link?.badLines() ?? 0) >= 4);
    expect(got).toEqual([
      { t: 'listening', host: '127.0.0.1', port: 1880 },
      { t: 'log', level: 'warn', msg: 'kept', at: 2, node: { id: 'n1', type: 'function' } },
    ]);
    expect(link.badLines()).toBe(4);
  });

  it('one launcher at a time: a new connection replaces the old one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'brana-link-')), 'l.sock');
    let disconnects = 0;
    link = await listenNodeRedLink({
      socketPath: path,
      onMessage: () => {},
      onDisconnect: () => disconnects++,
    });
    const first = await open(path);
    await until(() => link!.connected());
    const closed = new Promise((r) => first.once('close', r));
    await open(path);
    await closed;
    expect(link.connected()).toBe(true);
    expect(disconnects).toBe(0);
  });
});
