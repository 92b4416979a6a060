import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentLink, connectAgent } from './client.ts';
import { encodeFrame, FrameDecoder } from './frame.ts';
import type { AgentRecord, SequencedRecord } from './records.ts';
import { createIpcServer, type IpcServer } from './server.ts';

let dir: string;
let socketPath: string;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-ipc-'));
  socketPath = join(dir, 'agent.sock');
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function reading(i: number): AgentRecord {
  return {
    kind: 'reading',
    channel: 'meter-1.powerW',
    atMs: 1_700_000_000_000 + i,
    value: i,
    quality: 'good',
  };
}

async function server(
  onBatch: (r: SequencedRecord[]) => Promise<void>,
  extra: Partial<Parameters<typeof createIpcServer>[0]> = {},
) {
  const s = await createIpcServer({ socketPath, onBatch, ...extra });
  cleanup.push(() => s.close());
  return s;
}

function link(opts: Partial<Parameters<typeof connectAgent>[0]> = {}): AgentLink {
  const l = connectAgent({
    socketPath,
    source: 'fieldbus',
    queueLimit: 10_000,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    ...opts,
  });
  cleanup.push(() => l.close());
  return l;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('IPC over a Unix socket', () => {
  it('delivers records in order with (source, bootEpoch, seq), parsed and defaulted', async () => {
    const got: SequencedRecord[] = [];
    await server(async (b) => {
      got.push(...b);
    });
    const l = link({ source: 'rt', bootEpoch: 42 });
    expect(l.send(reading(1))).toBe(true);
    expect(l.send({ kind: 'event', type: 'preemption.asserted', safety: true, atMs: 5 })).toBe(true);
    expect(l.send({ kind: 'status', atMs: 6, counters: { dropped: 0 } })).toBe(true);
    await l.drained();
    expect(got.map((r) => [r.source, r.bootEpoch, r.seq, r.record.kind])).toEqual([
      ['rt', 42, 1, 'reading'],
      ['rt', 42, 2, 'event'],
      ['rt', 42, 3, 'status'],
    ]);
    expect(got[1]!.record).toEqual({
      kind: 'event',
      type: 'preemption.asserted',
      safety: true,
      atMs: 5,
      data: {},
    });
    expect(l.stats()).toMatchObject({ queued: 0, inFlight: 0, acked: 3, dropped: 0 });
  });

  it('forwards journalled readings of subscribed channels to the subscriber, latest value per channel', async () => {
    let commits = 0;
    await server(async () => {
      commits++;
    });
    const got: [string, number][][] = [];
    const rt = link({
      source: 'rt',
      subscribe: ['room.co2Ppm', 'room.temperatureC'],
      onValues: (v) => got.push([...v]),
    });
    const fieldbus = link({ source: 'fieldbus' });
    await until(() => rt.stats().connected && fieldbus.stats().connected);
    const r = (
      channel: string,
      value: number | null,
      quality: 'good' | 'bad' | 'stale' = 'good',
    ): AgentRecord => ({
      kind: 'reading',
      channel,
      atMs: 1,
      value,
      quality,
    });
    fieldbus.send(r('room.co2Ppm', 900));
    fieldbus.send(r('room.co2Ppm', 1600));
    fieldbus.send(r('meter.powerW', 5));
    fieldbus.send(r('room.temperatureC', 21, 'bad'));
    fieldbus.send(r('room.temperatureC', null));
    await fieldbus.drained();
    await until(() => got.length > 0);
    expect(got.flat()).toEqual([['room.co2Ppm', 1600]]);
    // The subscriber's own readings are not echoed back to it.
    rt.send(r('room.co2Ppm', 3));
    await rt.drained();
    fieldbus.send(r('room.temperatureC', 19.5, 'stale'));
    fieldbus.send(r('room.temperatureC', 20.5));
    await fieldbus.drained();
    await until(() => got.length > 1);
    expect(got.slice(1).flat()).toEqual([['room.temperatureC', 20.5]]);
    expect(commits).toBeGreaterThan(0);
  });

  it('refuses a hello whose subscribe is not a list of channel names', async () => {
    const errors: string[] = [];
    await server(async () => {}, { onProtocolError: (e) => errors.push(e.message) });
    const sock = createConnection(socketPath);
    cleanup.push(async () => void sock.destroy());
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(
      encodeFrame('hello', JSON.stringify({ protocol: 1, source: 'rt', bootEpoch: 1, subscribe: [7] })),
    );
    await until(() => errors.length > 0);
    expect(errors[0]).toMatch(/hello\.subscribe/);
  });

  it('acks only after onBatch resolved', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await server(() => gate);
    const l = link();
    l.send(reading(1));
    await until(() => l.stats().inFlight === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(l.stats().acked).toBe(0);
    release();
    await l.drained();
    expect(l.stats().acked).toBe(1);
  });

  it('resends unacked records after the agent restarts, none lost', async () => {
    const committed = new Map<number, number>();
    let s1: IpcServer | undefined = await createIpcServer({
      socketPath,
      // The first agent never commits: it "dies" with everything in flight.
      onBatch: () => new Promise(() => {}),
    });
    const l = link();
    for (let i = 1; i <= 500; i++) l.send(reading(i));
    await until(() => l.stats().inFlight === 500);
    await s1.close();
    s1 = undefined;
    for (let i = 501; i <= 1000; i++) l.send(reading(i));
    await server(async (b) => {
      for (const r of b) committed.set(r.seq, (committed.get(r.seq) ?? 0) + 1);
    });
    await l.drained();
    expect(committed.size).toBe(1000);
    expect([...committed.values()].every((n) => n === 1)).toBe(true);
    expect(l.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('a failed commit is not acked and is retried on a new connection', async () => {
    let fail = true;
    const seen: number[] = [];
    const commitErrors: unknown[] = [];
    await server(
      async (b) => {
        if (fail) {
          fail = false;
          throw Object.assign(new Error('journal quota reached'), { code: 'JOURNAL_FULL' });
        }
        seen.push(...b.map((r) => r.seq));
      },
      { onCommitError: (e) => commitErrors.push(e) },
    );
    const errors: Error[] = [];
    const l = link({ onError: (e) => errors.push(e) });
    l.send(reading(1));
    l.send(reading(2));
    await l.drained();
    expect(seen).toEqual([1, 2]);
    expect(commitErrors).toHaveLength(1);
    expect(errors.some((e) => /JOURNAL_FULL.*journal quota reached/.test(e.message))).toBe(true);
  });

  it('drops and counts when the bounded queue is full, without blocking', async () => {
    // No agent listening: everything stays queued.
    const l = link({ queueLimit: 100 });
    let accepted = 0;
    for (let i = 0; i < 250; i++) if (l.send(reading(i))) accepted++;
    expect(accepted).toBe(100);
    expect(l.stats()).toMatchObject({ queued: 100, dropped: 150, acked: 0 });
    const got: number[] = [];
    await server(async (b) => {
      got.push(...b.map((r) => (r.record.kind === 'reading' ? (r.record.value as number) : -1)));
    });
    await l.drained();
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Room again after the acks.
    expect(l.send(reading(999))).toBe(true);
  });

  it('an invalid record is reported with its path and acked, the rest are journalled', async () => {
    const got: number[] = [];
    const invalid: string[] = [];
    await server(
      async (b) => {
        got.push(...b.map((r) => r.seq));
      },
      { onInvalidRecord: (e, at) => invalid.push(`${at.seq} ${e.message}`) },
    );
    const l = link();
    l.send(reading(1));
    l.send({ kind: 'reading', channel: '', atMs: 1, value: 1, quality: 'good' });
    l.send({ kind: 'event', type: 'Bad Type', safety: false, atMs: 1 });
    l.send(reading(4));
    await l.drained();
    expect(got).toEqual([1, 4]);
    expect(invalid[0]).toMatch(/^2 IPC message records\[1\]\.channel: .*Fix: /);
    expect(invalid[1]).toMatch(/^3 IPC message records\[2\]\.type: expected a dotted lower-case type/);
  });

  it('garbage on the socket gets an error frame naming the byte offset, and the connection is closed', async () => {
    const protocolErrors: string[] = [];
    await server(async () => {}, { onProtocolError: (e) => protocolErrors.push(e.message) });
    const sock = createConnection(socketPath);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const hello = encodeFrame('hello', JSON.stringify({ protocol: 1, source: 'rt', bootEpoch: 1 }));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write(Buffer.concat([hello, Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
    await closed;
    const frames = new FrameDecoder().push(Buffer.concat(chunks));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.type).toBe('error');
    const body = JSON.parse(frames[0]!.body) as { code: string; message: string };
    expect(body.code).toBe('IPC_FRAME_INVALID');
    expect(body.message).toContain(`IPC stream byte ${hello.length}:`);
    expect(protocolErrors).toHaveLength(1);
  });

  it('a bad hello is refused with the field named', async () => {
    const protocolErrors: string[] = [];
    await server(async () => {}, { onProtocolError: (e) => protocolErrors.push(e.message) });
    const sock = createConnection(socketPath);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write(encodeFrame('hello', JSON.stringify({ protocol: 1, source: 'camera', bootEpoch: 1 })));
    sock.resume();
    await closed;
    expect(protocolErrors[0]).toMatch(/hello\.source: "camera" is unknown\. Fix: use one of rt, fieldbus/);
  });

  it('refuses to listen over a regular file, naming it', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(socketPath, 'not a socket');
    await expect(createIpcServer({ socketPath, onBatch: async () => {} })).rejects.toThrow(
      `${socketPath} exists and is not a socket. Fix: remove it or choose another socketPath`,
    );
  });

  // The rate itself is measured by the gateway's journal benchmark (`npm run bench -w @brana/gateway`);
  // here a burst far above the fieldbus's real output must arrive whole, once each and in order.
  it('carries a burst of 100,000 records whole, in order, none dropped', async () => {
    let n = 0;
    let inOrder = true;
    let lastSeq = 0;
    await server(async (b) => {
      for (const r of b) {
        if (r.seq !== lastSeq + 1) inOrder = false;
        lastSeq = r.seq;
      }
      n += b.length;
    });
    const total = 100_000;
    const l = link({ queueLimit: total });
    await until(() => l.stats().connected);
    for (let i = 0; i < total; i++) l.send(reading(i));
    await l.drained(60_000);
    expect(n).toBe(total);
    expect(inOrder).toBe(true);
    expect(l.stats().dropped).toBe(0);
  }, 90_000);
});
