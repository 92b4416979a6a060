import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentLink, connectAgent } from '@brana/firmware';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { JournalForeignError } from '../errors.ts';
import { type Gateway, startGateway } from './agent.ts';

let dir: string;
const stops: (() => Promise<unknown> | unknown)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-agent-'));
});
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  rmSync(dir, { recursive: true, force: true });
});

async function agent(
  extra: Partial<Parameters<typeof startGateway>[0]> = {},
): Promise<Gateway & { logs: string[] }> {
  const logs: string[] = [];
  const gw = await startGateway({
    dataDir: dir,
    firmware: { supervise: false },
    localApiPort: 0,
    log: (level, m) => logs.push(`${level}: ${m}`),
    ...extra,
  });
  stops.push(() => gw.close());
  return Object.assign(gw, { logs });
}

function firmware(gw: Gateway, source: 'rt' | 'fieldbus' = 'fieldbus'): AgentLink {
  const link = connectAgent({ socketPath: gw.socketPath, source, queueLimit: 100_000, reconnectMinMs: 20 });
  stops.push(() => link.close());
  return link;
}

describe('startGateway', () => {
  it('streams committed readings and events live over the local API WebSocket', async () => {
    const gw = await agent();
    const token = gw.localApi.issueToken('test', ['read']);
    const ws = new WebSocket(`ws+unix://${gw.localApi.socketPath}:/api/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    stops.push(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    const got: { kind: string; source: string; seq: number }[] = [];
    let subscribed = false;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; records?: typeof got };
      if (m.type === 'subscribed') subscribed = true;
      if (m.type === 'records') got.push(...(m.records ?? []));
    });
    ws.send(JSON.stringify({ op: 'subscribe', readings: ['*'], events: ['*'] }));
    while (!subscribed) await new Promise((r) => setTimeout(r, 10));
    const fw = firmware(gw, 'rt');
    fw.send({
      kind: 'event',
      type: 'preemption.asserted',
      safety: true,
      atMs: Date.now(),
      data: { approach: 'north' },
    });
    fw.send({ kind: 'reading', channel: 'pulse-1.energyKWh', atMs: Date.now(), value: 1.5, quality: 'good' });
    await fw.drained();
    const end = Date.now() + 5000;
    while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got.map((m) => [m.source, m.seq, m.kind])).toEqual([
      ['rt', 1, 'event'],
      ['rt', 2, 'reading'],
    ]);
    expect(gw.status().journal).toMatchObject({ committed: 2, safetyEvents: 1 });
  });

  it('a damaged journal is moved aside, named in the log, and a new one started', async () => {
    writeFileSync(join(dir, 'journal.db'), 'garbage, not SQLite'.repeat(100));
    const gw = await agent();
    expect(gw.status().journal.quarantinedFrom).toMatch(/journal\.db\.corrupt-\d+$/);
    expect(
      gw.logs.some((l) =>
        /^error: journal was damaged; moved to .*journal\.db\.corrupt-\d+ and started a new one$/.test(l),
      ),
    ).toBe(true);
    const fw = firmware(gw);
    fw.send({ kind: 'reading', channel: 'm.powerW', atMs: 1, value: 1, quality: 'good' });
    await fw.drained();
    expect(gw.journal.stats().committed).toBe(1);
  });

  it('a foreign database at the journal path is refused, not touched', async () => {
    const db = new Database(join(dir, 'journal.db'));
    db.exec('CREATE TABLE invoices (id INTEGER)');
    db.close();
    const err = await agent().catch((e) => e);
    expect(err).toBeInstanceOf(JournalForeignError);
    expect(err.message).toContain('is a SQLite database of another application');
  });

  it('over the disk quota, readings are evicted and counted, safety events kept, and the firmware is never blocked', async () => {
    const gw = await agent({ journalQuotaMB: 0.25 });
    const fw = firmware(gw);
    const rt = firmware(gw, 'rt');
    // Random float64 values: the journal's compact form cannot shrink them below ~11 bytes.
    for (let i = 0; i < 60_000; i++) {
      expect(
        fw.send({
          kind: 'reading',
          channel: `m${i % 40}.powerW`,
          atMs: i,
          value: Math.random(),
          quality: 'good',
        }),
      ).toBe(true);
      if (i % 3000 === 0)
        rt.send({ kind: 'event', type: 'preemption.released', safety: true, atMs: i, data: {} });
    }
    await fw.drained(30_000);
    await rt.drained();
    const s = gw.journal.stats();
    expect(s.evictedReadings).toBeGreaterThan(0);
    expect(s.safetyEvents).toBe(20);
    expect(s.usedBytes).toBeLessThanOrEqual(0.25 * 1024 * 1024);
    expect(fw.stats().dropped).toBe(0);
  });
});
