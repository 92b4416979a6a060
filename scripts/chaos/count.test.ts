import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CountOptions,
  countReadings,
  type DevicePoints,
  type MeterAnswer,
  type StoredReading,
} from './count.ts';

// A meter with two blocks: input registers 0..5 (three f32 points) and holding register 100 (u16).
const meter: DevicePoints = {
  prefix: 'main-meter.',
  points: [
    { key: 'voltageV', fc: 4, address: 0, words: 2 },
    { key: 'currentA', fc: 4, address: 2, words: 2 },
    { key: 'powerW', fc: 4, address: 4, words: 2 },
    { key: 'serial', fc: 3, address: 100, words: 1 },
  ],
};
const devices = new Map([['school', new Map([[1, meter]])]]);

const noOffset: CountOptions = { toleranceMs: 2500, offsetsAt: () => [0], excuse: () => null };

/** Answers every 5 s alternating the two blocks, and the readings a correct gateway stores for them. */
function world(n: number, stampDelayMs: number, offsetS = 0) {
  const answers: MeterAnswer[] = [];
  const stored: StoredReading[] = [];
  for (let i = 0; i < n; i++) {
    const atMs = 1_000_000 + i * 5000;
    const input = i % 2 === 0;
    answers.push({
      site: 'school',
      unit: 1,
      fc: input ? 4 : 3,
      address: input ? 0 : 100,
      count: input ? 6 : 1,
      atMs,
    });
    const ts = atMs + stampDelayMs + offsetS * 1000;
    const keys = input ? ['voltageV', 'currentA', 'powerW'] : ['serial'];
    for (const k of keys) stored.push({ site: 'school', channel: `main-meter.${k}`, ts });
  }
  return { answers, stored };
}

describe('countReadings', () => {
  it('finds every answer stored once, whatever the small delay to the gateway stamp', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 2000 }), (n, delay) => {
        const { answers, stored } = world(n, delay);
        const r = countReadings(answers, devices, stored, [], noOffset);
        expect(r).toMatchObject({
          answers: n,
          stored: n,
          lost: 0,
          missed: 0,
          duplicated: 0,
          unmatchedGroups: 0,
        });
      }),
    );
  });

  it('counts each answer missing from the fleet as lost, unless it is excused or the gateway recorded the read as failed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 40 }), fc.integer({ min: 0, max: 2 ** 30 }), (n, mask) => {
        const { answers, stored } = world(n, 30);
        const drop = new Set(answers.map((_, i) => i).filter((i) => (mask >> i) & 1));
        const kept = stored.filter((s) => !drop.has(Math.round((s.ts - 30 - 1_000_000) / 5000)));
        const r = countReadings(answers, devices, kept, [], noOffset);
        expect(r.lost).toBe(drop.size);
        expect(r.stored).toBe(n - drop.size);
        const excused = countReadings(answers, devices, kept, [], { ...noOffset, excuse: () => 'killed' });
        expect(excused.lost).toBe(0);
        expect(excused.excused.killed ?? 0).toBe(drop.size);
      }),
    );
    const { answers, stored } = world(3, 10);
    const faults = [
      { site: 'school', device: 'main-meter', fc: 4, address: 0, count: 6, ts: answers[0]!.atMs + 1000 },
    ];
    const r = countReadings(answers, devices, stored.slice(3), faults, noOffset);
    expect(r).toMatchObject({ stored: 2, missed: 1, lost: 0 });
  });

  it('counts a reading stored twice as duplicated, and a stored group no answer explains apart', () => {
    const { answers, stored } = world(4, 10);
    const twice = [...stored, stored[0]!];
    expect(countReadings(answers, devices, twice, [], noOffset).duplicated).toBe(1);
    const phantom = [...stored, { site: 'school', channel: 'main-meter.powerW', ts: 5 }];
    const r = countReadings(answers, devices, phantom, [], noOffset);
    expect(r).toMatchObject({ stored: 4, lost: 0, unmatchedGroups: 1 });
  });

  it('matches readings stamped by a gateway whose clock was stepped, and not by a wrong one', () => {
    const { answers, stored } = world(6, 20, -3600);
    expect(countReadings(answers, devices, stored, [], noOffset).lost).toBe(6);
    const r = countReadings(answers, devices, stored, [], { ...noOffset, offsetsAt: () => [0, -3600] });
    expect(r).toMatchObject({ stored: 6, lost: 0 });
  });

  it('never pairs a reading with an answer of another block or device', () => {
    const { answers, stored } = world(2, 10);
    // The holding-register reading claimed to come from the input block's read: not a match.
    const wrong = stored.map((s) =>
      s.channel === 'main-meter.serial' ? { ...s, channel: 'main-meter.powerW' } : s,
    );
    const r = countReadings(answers, devices, wrong, [], noOffset);
    expect(r.lost).toBe(1);
    const other = new Map([['school', new Map([[2, meter]])]]);
    expect(countReadings(answers, other, stored, [], noOffset).lost).toBe(2);
  });
});
