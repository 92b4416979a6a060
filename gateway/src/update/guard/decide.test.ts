import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideAtBoot,
  decideWatching,
  type GuardView,
  parseSwitchRecord,
  type SwitchRecord,
} from './decide.ts';

const record = (over: Partial<SwitchRecord> = {}): SwitchRecord => ({
  id: 's1',
  from: '1.0.0',
  to: '1.1.0',
  trialMs: 300_000,
  graceMs: 60_000,
  maxStarts: 3,
  maxBoots: 2,
  agentUnit: 'brana-gateway.service',
  restart: [{ command: '/usr/bin/systemctl', args: ['restart', 'brana-gateway.service'] }],
  ...over,
});

const viewArb: fc.Arbitrary<GuardView> = fc.record({
  record: fc.option(
    fc
      .record({ maxBoots: fc.integer({ min: 0, max: 4 }), maxStarts: fc.integer({ min: 0, max: 5 }) })
      .map((o) => record(o)),
    { nil: undefined },
  ),
  current: fc.constantFrom('1.0.0', '1.1.0', '0.9.0', undefined),
  installed: fc.subarray(['1.0.0', '1.1.0', '0.9.0']).map((a) => new Set(a)),
  bootsCounted: fc.uniqueArray(fc.constantFrom('b1', 'b2', 'b3', 'b4'), { maxLength: 4 }),
  bootId: fc.constantFrom('b1', 'b2', 'b3', 'b4', 'b5'),
  agentStarts: fc.nat(8),
});

describe('update guard decisions', () => {
  it('at boot: switches back only to the record`s `from`, only while `current` is its target or broken', () => {
    fc.assert(
      fc.property(viewArb, (v) => {
        const a = decideAtBoot(v);
        if (a.do === 'switch-back') {
          expect(v.record).toBeDefined();
          expect(v.installed.has(v.record!.from)).toBe(true);
          const broken = v.current === undefined || !v.installed.has(v.current);
          expect(broken || v.current === v.record!.to).toBe(true);
          expect(a.restart).toBe(false);
        }
        if (a.do === 'count-boot') {
          expect(v.current).toBe(v.record?.to);
          expect(v.bootsCounted).not.toContain(v.bootId);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('counts each boot once and switches back on the boot after maxBoots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 8 }), (maxBoots, boots) => {
        const counted: string[] = [];
        const installed = new Set(['1.0.0', '1.1.0']);
        let current = '1.1.0';
        for (let n = 1; n <= boots; n++) {
          const v: GuardView = {
            record: record({ maxBoots }),
            current,
            installed,
            bootsCounted: counted,
            bootId: `boot-${n}`,
            agentStarts: 0,
          };
          const a = decideAtBoot(v);
          // The same boot seen again (the unit restarted) changes nothing.
          if (a.do === 'count-boot') {
            counted.push(`boot-${n}`);
            expect(decideAtBoot({ ...v, bootsCounted: counted }).do).toBe('nothing');
          }
          if (a.do === 'switch-back') current = '1.0.0';
          expect(current === '1.0.0').toBe(n > maxBoots);
        }
      }),
    );
  });

  it('while watching: switches back exactly when the agent started too often or the window ran out', () => {
    fc.assert(
      fc.property(viewArb, fc.nat(1_000_000), (v, elapsed) => {
        const a = decideWatching(v, 1000, 1000 + elapsed);
        const r = v.record;
        const onTrial = r !== undefined && v.current === r.to && v.installed.has(r.from);
        const expired = r !== undefined && elapsed >= r.trialMs + r.graceMs;
        const tooMany = r !== undefined && v.agentStarts > r.maxStarts;
        expect(a.do === 'switch-back').toBe(onTrial && (expired || tooMany));
        expect(a.do === 'nothing').toBe(!onTrial);
        if (a.do === 'switch-back') expect(a.restart).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back what it writes and refuses a damaged switch record', () => {
    const r = record();
    expect(parseSwitchRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
    fc.assert(
      fc.property(
        fc.constantFrom(
          'id',
          'from',
          'to',
          'trialMs',
          'graceMs',
          'maxStarts',
          'maxBoots',
          'agentUnit',
          'restart',
        ),
        fc.oneof(
          fc.constant(null),
          fc.constant(''),
          fc.constant(-1),
          fc.constant('x'),
          fc.constant([{ command: 1 }]),
        ),
        (key, value) => {
          const damaged = { ...r, [key]: value };
          const parsed = parseSwitchRecord(damaged);
          // Either refused, or the value was of the right kind after all.
          if (parsed !== undefined)
            expect((parsed as unknown as Record<string, unknown>)[key]).toEqual(value);
        },
      ),
    );
    expect(parseSwitchRecord('{')).toBeUndefined();
    expect(parseSwitchRecord(null)).toBeUndefined();
  });
});
