import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock, type SequencedRecord } from '@brana/firmware';
import { generateEd25519KeyPair } from '@brana/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFleet, startFakeFleet } from '../../test/fake-fleet.ts';
import { EnrolmentError } from '../errors.ts';
import { Journal } from '../journal/index.ts';
import { writeFileAtomic } from '../state/index.ts';
import { FleetLink, type FleetLinkOptions } from './fleet-link.ts';
import { enrol, loadIdentity } from './identity.ts';

let dir: string;
let fleet: FakeFleet;
const stops: (() => unknown)[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-link-'));
  fleet = await startFakeFleet();
});
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await fleet.close();
  rmSync(dir, { recursive: true, force: true });
});

function readings(from: number, n: number, atMs = Date.now()): SequencedRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    source: 'fieldbus' as const,
    bootEpoch: 1,
    seq: from + i,
    record: {
      kind: 'reading' as const,
      channel: 'm1.powerW',
      atMs,
      value: from + i,
      quality: 'good' as const,
    },
  }));
}

async function until(cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function enrolled() {
  await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
  const journal = Journal.open({ path: join(dir, 'journal.db') });
  stops.push(() => journal.close());
  return { identity: loadIdentity(dir), journal };
}

function startLink(o: Pick<FleetLinkOptions, 'identity' | 'journal'> & Partial<FleetLinkOptions>): FleetLink {
  const link = new FleetLink({
    clock: new RealClock(),
    running: () => null,
    onDesired: () => {},
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    tickMs: 20,
    ...o,
  });
  link.start();
  stops.push(() => link.stop());
  return link;
}

const uploadedValues = () => [...fleet.readings.values()].map((r) => r.value as number).sort((a, b) => a - b);

describe('enrolment', () => {
  it('makes the key on the device, pins the server key, writes 0600 files', async () => {
    const e = await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
    expect(e.serverPublicKey).toBe(fleet.serverKey.publicKey);
    expect(e.gatewayId).toMatch(/^gw_/);
    for (const f of ['identity/gateway-key.pem', 'identity/enrolment.json']) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const id = loadIdentity(dir);
    expect(id.enrolment?.gatewayId).toBe(e.gatewayId);
    // The same key is used again: it is made once.
    expect(loadIdentity(dir).publicKey).toBe(id.publicKey);
  });

  it('a used or unknown claim token is refused with the server reason and the fix', async () => {
    await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' });
    const err = await enrol({ dataDir: dir, serverUrl: fleet.url, claimToken: 'claim-token-0001' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(EnrolmentError);
    expect(err.message).toBe(
      'enrolment: the server refused the claim token (HTTP 403, claim-invalid: unknown or used claim token). Fix: ask the fleet operator for a new claim token (they are single use and expire)',
    );
  });

  it('an unreachable server is named', async () => {
    const err = await enrol({
      dataDir: dir,
      serverUrl: 'http://127.0.0.1:9',
      claimToken: 'claim-token-0001',
    }).catch((e) => e);
    expect(err.message).toMatch(
      /^enrolment: cannot reach http:\/\/127\.0\.0\.1:9 \(.*\)\. Fix: check the server URL/,
    );
  });
});

describe('fleet link', () => {
  it('authenticates, reconciles, uploads every journal row exactly once and trims on ack', async () => {
    const { identity, journal } = await enrolled();
    journal.append(readings(1, 1200));
    const running = { version: 3, hash: 'a'.repeat(64) };
    const desired: unknown[] = [];
    const link = startLink({ identity, journal, running: () => running, onDesired: (d) => desired.push(d) });
    await until(() => fleet.readings.size === 1200 && journal.stats().records === 0);
    expect(uploadedValues()).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(fleet.duplicates).toBe(0);
    expect(new Set(fleet.readingsAs)).toStrictEqual(new Set(['columns'])); // what the fleet server takes fastest
    expect(fleet.hellos[0]).toMatchObject({ type: 'hello', running, bootEpoch: journal.uploadEpoch });
    expect(desired).toEqual([null]);
    expect(link.stats()).toMatchObject({ state: 'online', sessions: 1, ackedSeq: 1200 });
  });

  it('a network cut while readings flow: nothing lost, backlog drains, live data goes first', async () => {
    const { identity, journal } = await enrolled();
    const link = startLink({ identity, journal, backlogPerS: 4000, batchSize: 200 });
    await until(() => link.stats().state === 'online');
    let seq = 1;
    journal.append(readings(seq, 100));
    seq += 100;
    await until(() => fleet.readings.size === 100);
    fleet.cut();
    // The outage: 8 meters × 1 reading/s for 15 min would be 7,200 readings; 12,000 arrive in 1.5 s here.
    for (let i = 0; i < 30; i++) {
      journal.append(readings(seq, 400, Date.now()));
      seq += 400;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(journal.stats().unsent).toBeGreaterThan(11_000);
    fleet.resume();
    await until(() => link.stats().state === 'online' && link.stats().sessions === 2);
    // Live readings produced after the reconnect must not wait behind the backlog.
    const liveFrom = seq;
    const liveSentAt = Date.now();
    journal.append(readings(seq, 10, liveSentAt));
    seq += 10;
    link.nudge();
    await until(() => [...fleet.readings.values()].some((r) => (r.value as number) >= liveFrom + 9));
    const liveLatencyMs = Date.now() - liveSentAt;
    expect(journal.stats().unsent).toBeGreaterThan(3000);
    expect(liveLatencyMs).toBeLessThan(1500);
    await until(() => fleet.readings.size === seq - 1, 15_000);
    expect(uploadedValues()).toEqual(Array.from({ length: seq - 1 }, (_, i) => i + 1));
    expect(fleet.duplicates).toBe(0);
    await until(() => journal.stats().records === 0);
  });

  it('a server that answers garbage: clear error, retried with backoff, journal keeps its data', async () => {
    const { identity, journal } = await enrolled();
    journal.append(readings(1, 10));
    fleet.mode = 'garbage';
    const logged: string[] = [];
    const link = startLink({ identity, journal, log: (_level, m) => logged.push(m) });
    await until(() => link.stats().protocolErrors >= 2);
    expect(logged[0]).toMatch(
      /^fleet server: sent a message that is not the wire protocol \(\(root\): not JSON: .*\)\. Fix: check that serverUrl points at a Brána fleet server/,
    );
    expect(journal.stats().records).toBe(10);
    fleet.mode = 'normal';
    await until(() => fleet.readings.size === 10);
  });

  it('a fleet server from before the column form: falls back to records, nothing lost or doubled', async () => {
    const { identity, journal } = await enrolled();
    journal.append(readings(1, 1200));
    fleet.mode = 'before-columns';
    const logged: string[] = [];
    startLink({ identity, journal, log: (_level, m) => logged.push(m) });
    await until(() => fleet.readings.size === 1200 && journal.stats().records === 0);
    expect(uploadedValues()).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(fleet.duplicates).toBe(0);
    expect(new Set(fleet.readingsAs)).toStrictEqual(new Set(['records']));
    expect(logged).toContain(
      'the fleet server does not take readings as columns (it is older than this agent); sending records instead',
    );
    fleet.mode = 'normal';
  });

  it('a batch the server could not store is sent again in a new session, not left in flight', async () => {
    const { identity, journal } = await enrolled();
    fleet.failTelemetry = 3;
    const link = startLink({ identity, journal, maxInFlightBatches: 3 });
    journal.append(readings(1, 30));
    await until(() => fleet.readings.size === 30 && journal.stats().records === 0);
    expect(uploadedValues()).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(link.stats().sessions).toBeGreaterThan(1);
    expect(link.stats().lastError).toContain('internal');
  });

  it('a record the server refuses is quarantined, a stand-in takes its number, the rest goes on', async () => {
    const { identity, journal } = await enrolled();
    const deep = (n: number): unknown => (n === 0 ? 'bottom' : { d: deep(n - 1) });
    // As the fleet server will: data nested too deep is refused, naming the record.
    fleet.refuseRecord = (r) =>
      'kind' in r && r.kind === 'flows.debug' && JSON.stringify(r.data).length > 500
        ? 'data nested deeper than 64 levels'
        : undefined;
    let seq = 1;
    const batch = [];
    for (let i = 0; i < 50; i++) {
      batch.push(...readings(seq, 9));
      seq += 9;
      // One record in ten is refused.
      batch.push({
        source: 'fieldbus' as const,
        bootEpoch: 1,
        seq: seq++,
        record: {
          kind: 'event' as const,
          type: 'flows.debug',
          safety: false,
          atMs: Date.now(),
          data: { payload: deep(100) },
        },
      });
    }
    journal.append(batch);
    const link = startLink({ identity, journal, batchSize: 100 });
    await until(() => fleet.readings.size === 450 && journal.stats().records === 0);
    expect(fleet.refusals).toBe(50);
    expect(link.stats().refusedRecords).toBe(50);
    expect(journal.stats().quarantined).toBe(50);
    // The fleet got a stand-in for each, under the refused record's number; nothing twice.
    const standIns = [...fleet.events.values()].filter((e) => e.kind === 'journal.quarantined');
    expect(standIns).toHaveLength(50);
    expect(standIns[0]?.data).toMatchObject({
      kind: 'event',
      type: 'flows.debug',
      reason: 'events[0]: data nested deeper than 64 levels',
    });
    expect(fleet.duplicates).toBe(0);
    const kept = journal.quarantined(100);
    expect(kept).toHaveLength(50);
    expect(kept[0]?.record).toMatchObject({
      kind: 'event',
      type: 'flows.debug',
      data: { payload: { d: {} } },
    });
    expect(link.stats().sessions).toBe(1);
    fleet.refuseRecord = undefined;
  });

  it('refuses a server that cannot prove the pinned key', async () => {
    const { journal } = await enrolled();
    const identity = loadIdentity(dir);
    const other = generateEd25519KeyPair().publicKey;
    writeFileAtomic(
      join(dir, 'identity/enrolment.json'),
      JSON.stringify({ ...identity.enrolment, serverPublicKey: other }),
    );
    journal.append(readings(1, 5));
    const link = startLink({ identity: loadIdentity(dir), journal });
    await until(() => link.stats().protocolErrors >= 1);
    expect(link.stats().lastError).toContain('did not prove it holds the pinned server key');
    expect(fleet.readings.size).toBe(0);
  });
});
