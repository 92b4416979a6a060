import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectAgent } from './client.ts';
import { type CommandReply, commandReplySchema, MAX_COMMAND_BYTES, parseCommand } from './commands.ts';
import { encodeFrame, FrameDecoder } from './frame.ts';
import { createIpcServer, type IpcServer } from './server.ts';

let dir: string;
let socketPath: string;
const cleanup: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-cmd-'));
  socketPath = join(dir, 'agent.sock');
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function agent(extra: Partial<Parameters<typeof createIpcServer>[0]> = {}): Promise<IpcServer> {
  const s = await createIpcServer({ socketPath, onBatch: async () => {}, ...extra });
  cleanup.push(() => s.close());
  return s;
}

/** A firmware end speaking the protocol by hand: connected and said hello as rt, nothing else. */
async function rawRt(s: IpcServer) {
  const sock = createConnection(socketPath);
  cleanup.push(() => void sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeFrame('hello', JSON.stringify({ protocol: 1, source: 'rt', bootEpoch: 1 })));
  await until(() => s.connections().some((c) => c.source === 'rt'));
  return sock;
}

const set = (relay: string, on: boolean) => ({
  op: 'relay.set' as const,
  relay,
  on,
  by: { kind: 'flow' as const },
});

describe('parseCommand', () => {
  it('takes a well-formed relay.set and keeps its fields', () => {
    expect(
      parseCommand(
        JSON.stringify({ id: 7, op: 'relay.set', relay: 'fan', on: true, by: { kind: 'flow', node: 'n1' } }),
      ),
    ).toEqual({
      ok: true,
      command: { id: 7, op: 'relay.set', relay: 'fan', on: true, by: { kind: 'flow', node: 'n1' } },
    });
  });

  it.each([
    ['not json', 'not JSON', 0],
    ['{"id":3,"op":"relay.toggle","relay":"fan","on":true,"by":{"kind":"flow"}}', 'op "relay.toggle"', 3],
    ['{"id":4,"op":"relay.set","relay":"fan","on":"yes","by":{"kind":"flow"}}', 'on: ', 4],
    ['{"id":5,"op":"relay.set","relay":"fan","on":true,"by":{"kind":"rules"}}', 'by.kind', 5],
    ['{"id":6,"op":"relay.set","relay":"fan","on":true,"by":{"kind":"flow"},"owner":"flows"}', 'owner', 6],
    ['{"id":-1,"op":"relay.set","relay":"fan","on":true,"by":{"kind":"flow"}}', 'id: ', 0],
    ['null', 'op undefined', 0],
    [`{"id":8,"op":"relay.set","relay":"${'x'.repeat(101)}","on":true,"by":{"kind":"flow"}}`, 'relay: ', 8],
  ])('refuses %s as bad-command, naming what is wrong and how to send it', (text, what, id) => {
    const r = parseCommand(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reply).toMatchObject({ id, ok: false, code: 'bad-command' });
    expect(r.reply.message).toContain(what);
    expect(r.reply.message).toContain('"op":"relay.set"');
  });

  it('refuses an oversized body before parsing it', () => {
    const r = parseCommand(`{"pad":"${'a'.repeat(MAX_COMMAND_BYTES)}"}`);
    expect(r).toMatchObject({ ok: false, reply: { code: 'bad-command' } });
  });

  it('property: any text gives a command or a schema-valid refusal, never an exception', () => {
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc
        .record({
          id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
          op: fc.oneof(fc.constant('relay.set'), fc.string({ maxLength: 10 })),
          relay: fc.oneof(fc.string({ maxLength: 120 }), fc.integer()),
          on: fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 1 })),
          by: fc.oneof(fc.constant({ kind: 'flow' }), fc.object({ maxDepth: 2 })),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(body, (text) => {
        const r = parseCommand(text);
        const reply: CommandReply = r.ok
          ? { id: r.command.id, ok: true, relay: r.command.relay, on: r.command.on, changed: false }
          : r.reply;
        expect(commandReplySchema.safeParse(reply).success).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('IpcServer.command ⇄ firmware onCommand', () => {
  it('delivers a command to the source, numbered per connection, and resolves with its reply', async () => {
    const s = await agent();
    const seen: { body: unknown; connection: number }[] = [];
    const rt = connectAgent({
      socketPath,
      source: 'rt',
      queueLimit: 10,
      onCommand: (body, connection) => {
        const b = JSON.parse(body) as { id: number; relay: string; on: boolean };
        seen.push({ body: b, connection });
        return { id: b.id, ok: true, relay: b.relay, on: b.on, changed: true };
      },
    });
    cleanup.push(() => rt.close());
    await until(() => s.connections().some((c) => c.source === 'rt'));
    expect(await s.command('rt', set('fan', true))).toEqual({
      id: 1,
      ok: true,
      relay: 'fan',
      on: true,
      changed: true,
    });
    expect(await s.command('rt', set('fan', false))).toMatchObject({ id: 2, on: false });
    expect(seen).toEqual([
      { body: { id: 1, op: 'relay.set', relay: 'fan', on: true, by: { kind: 'flow' } }, connection: 1 },
      { body: { id: 2, op: 'relay.set', relay: 'fan', on: false, by: { kind: 'flow' } }, connection: 1 },
    ]);
  });

  it('answers not-ready when the source is not connected, and bad-command for a body off the schema', async () => {
    const s = await agent();
    const r = await s.command('rt', set('fan', true));
    expect(r).toMatchObject({ ok: false, code: 'not-ready' });
    expect((r as { message: string }).message).toMatch(/rt process is not connected/);
    const bad = await s.command('rt', { ...set('fan', true), relay: '' });
    expect(bad).toMatchObject({ ok: false, code: 'bad-command' });
    expect((bad as { message: string }).message).toMatch(/^relay: /);
  });

  it('a process without a command handler refuses as not-ready (fieldbus takes no commands)', async () => {
    const s = await agent();
    const fb = connectAgent({ socketPath, source: 'fieldbus', queueLimit: 10 });
    cleanup.push(() => fb.close());
    await until(() => s.connections().some((c) => c.source === 'fieldbus'));
    const r = await s.command('fieldbus', set('fan', true));
    expect(r).toMatchObject({ id: 1, ok: false, code: 'not-ready' });
    expect((r as { message: string }).message).toMatch(/fieldbus process takes no commands/);
  });

  it('times out as not-ready, saying the relay may have switched, and ignores the late reply', async () => {
    const s = await agent({ commandTimeoutMs: 100 });
    // A firmware end that never answers.
    const sock = await rawRt(s);
    const got: string[] = [];
    const decoder = new FrameDecoder();
    sock.on('data', (c: Buffer) => {
      for (const f of decoder.push(c)) got.push(f.body);
    });
    const r = await s.command('rt', set('fan', true));
    expect(r).toMatchObject({ id: 1, ok: false, code: 'not-ready' });
    expect((r as { message: string }).message).toMatch(
      /did not answer within 100 ms; the relay may or may not have switched/,
    );
    // The late answer finds nobody waiting and breaks nothing.
    sock.write(
      encodeFrame('reply', JSON.stringify({ id: 1, ok: true, relay: 'fan', on: true, changed: true })),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(s.connections().some((c) => c.source === 'rt')).toBe(true);
    expect(JSON.parse(got[0]!)).toMatchObject({ id: 1, op: 'relay.set' });
  });

  it('a disconnect settles every waiting command as not-ready', async () => {
    const s = await agent({ commandTimeoutMs: 10_000 });
    const sock = await rawRt(s);
    sock.resume();
    const pending = [s.command('rt', set('a', true)), s.command('rt', set('b', true))];
    await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    const replies = await Promise.all(pending);
    for (const r of replies) {
      expect(r).toMatchObject({ ok: false, code: 'not-ready' });
      expect((r as { message: string }).message).toMatch(/disconnected before it answered/);
    }
  });

  it('a reply off the schema is a protocol error naming the field', async () => {
    const errors: string[] = [];
    const s = await agent({ onProtocolError: (e) => errors.push(e.message) });
    const sock = await rawRt(s);
    sock.resume();
    sock.write(encodeFrame('reply', JSON.stringify({ id: 1, ok: false, code: 'nope', message: 'x' })));
    await until(() => errors.length > 0);
    expect(errors[0]).toMatch(/IPC message reply\.code: /);
  });

  it('refuses as rate-limited beyond 64 commands waiting on one connection', async () => {
    const s = await agent({ commandTimeoutMs: 10_000 });
    const sock = await rawRt(s);
    sock.resume();
    const waiting = Array.from({ length: 64 }, (_, i) => s.command('rt', set(`r${i}`, true)));
    expect(await s.command('rt', set('x', true))).toMatchObject({ ok: false, code: 'rate-limited' });
    sock.destroy();
    await Promise.all(waiting);
  });
});
