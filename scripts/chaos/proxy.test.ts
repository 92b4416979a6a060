import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './proxy.ts';

let echo: Server | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
});

async function start(): Promise<FaultProxy> {
  echo = createServer((s) => s.on('data', (d) => s.write(d)).on('error', () => undefined));
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', () => r()));
  const port = (echo.address() as { port: number }).port;
  proxy = await FaultProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: port });
  return proxy;
}

function connect(p: FaultProxy): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port: p.port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** What arrives on `s` within ms, and how the connection ended (if it did). */
function collect(s: Socket, ms: number): Promise<{ data: string; ended: string | null }> {
  return new Promise((resolve) => {
    let data = '';
    let ended: string | null = null;
    s.on('data', (d) => {
      data += d.toString();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      ended = e.code ?? 'error';
    });
    s.on('close', () => {
      ended ??= 'closed';
    });
    setTimeout(() => resolve({ data, ended }), ms);
  });
}

describe('FaultProxy', () => {
  it('passes bytes both ways', async () => {
    const p = await start();
    const s = await connect(p);
    s.write('hello');
    expect(await collect(s, 300)).toEqual({ data: 'hello', ended: null });
    s.destroy();
  });

  it('stall: nothing moves while it lasts, everything arrives after it', async () => {
    const p = await start();
    const s = await connect(p);
    p.set('stall');
    s.write('late');
    let early = '';
    s.once('data', (d) => {
      early = d.toString();
    });
    const all = collect(s, 900);
    await new Promise((r) => setTimeout(r, 400));
    expect(early).toBe('');
    p.set('pass');
    expect(await all).toEqual({ data: 'late', ended: null });
    s.destroy();
  });

  it('reset breaks open connections with RST and refuses new ones until it ends', async () => {
    const p = await start();
    const s = await connect(p);
    const broken = collect(s, 300);
    p.set('reset');
    expect((await broken).ended).toBe('ECONNRESET');
    // Refused: the connection is reset as soon as it is made (or while it is made).
    const refused = await connect(p).then(
      (again) => collect(again, 300).then((r) => r.ended),
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    expect(refused).not.toBeNull();
    p.set('pass');
    const ok = await connect(p);
    ok.write('back');
    expect((await collect(ok, 300)).data).toBe('back');
    ok.destroy();
  });

  it('cut: new connections hang with no answer, and what sat in the blackhole is gone after it', async () => {
    const p = await start();
    p.set('cut');
    const s = await connect(p);
    s.write('into the void');
    const during = collect(s, 1000);
    await new Promise((r) => setTimeout(r, 400));
    p.set('pass');
    const r = await during;
    expect(r.data).toBe('');
    expect(r.ended).not.toBeNull();
    expect(p.stats.broken).toBeGreaterThan(0);
  });
});
