import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptySnapshot, type RegionSnapshot } from './snapshot.ts';
import { fitWidth, formatDuration, formatLatency, formatRate, renderView } from './view.ts';

const T0 = Date.UTC(2026, 10, 23, 14, 0, 0);

function busy(): RegionSnapshot {
  const s = emptySnapshot(T0, '/tmp/region', 96);
  s.nowMs = T0 + 125_000;
  s.apiUrl = 'http://127.0.0.1:8080/api/v1';
  s.consoleUrl = 'http://127.0.0.1:8080/';
  s.parts = [
    { name: 'fleet server', state: 'running' },
    { name: 'vehicle simulator', state: 'missing', detail: 'needs the intersection gateway' },
  ];
  s.gateways = [
    {
      site: 'intersection',
      kind: 'intersection',
      state: 'online',
      gatewayId: 'gw_1',
      runningVersion: 2,
      desiredVersion: 2,
      readingsPerS: 0,
    },
    {
      site: 'school',
      kind: 'building',
      state: 'online',
      gatewayId: 'gw_2',
      runningVersion: 1,
      desiredVersion: 3,
      readingsPerS: 12.5,
      firmware: 'fieldbus running ×2',
    },
  ];
  s.readingsPerS = 12.5;
  s.readingsTotal = 1500;
  s.preemptions = [
    {
      atMs: T0 + 60_000,
      approach: 'north',
      vehicle: 'ZZS-101',
      role: 'ambulance',
      latencyMs: 3.2,
      released: 'cancel',
    },
    {
      atMs: T0 + 120_000,
      approach: 'west',
      vehicle: 'DPJ-12',
      role: 'transit',
      latencyMs: 41,
      released: null,
    },
  ];
  s.rejections = { 'bad-signature': 2, stale: 1 };
  s.rollouts = [{ id: 'r1', site: 'school', configVersion: 3, state: 'running', applied: 0, total: 1 }];
  return s;
}

describe('renderView', () => {
  it('shows URLs, gateways, preemptions, rejections and rollouts', () => {
    const text = renderView(busy(), { width: 200, color: false }).join('\n');
    expect(text).toContain('API      http://127.0.0.1:8080/api/v1');
    expect(text).toContain('console  http://127.0.0.1:8080/');
    expect(text).toMatch(/intersection\s+online\s+v2\s/);
    expect(text).toMatch(/school\s+online\s+v1→v3\s+12\.5\s+fieldbus running ×2\s+gw_2/);
    expect(text).toMatch(/north\s+ZZS-101 \(ambulance\)\s+3\.2 ms\s+cancel/);
    expect(text).toMatch(/west\s+DPJ-12 \(transit\)\s+41 ms\s+held/);
    expect(text).toContain('Rejected requests: 3');
    expect(text).toContain('bad-signature 2, stale 1');
    expect(text).toMatch(/school\s+v3\s+running\s+0\/1 applied/);
    expect(text).toContain('up 2m05s');
    // The missing part is named, so a half-built region says what it lacks instead of crashing.
    expect(text).toMatch(/vehicle simulator\s+missing\s+needs the intersection gateway/);
  });

  it('lists the newest preemption first', () => {
    const lines = renderView(busy(), { width: 200, color: false });
    const west = lines.findIndex((l) => l.includes('DPJ-12'));
    const north = lines.findIndex((l) => l.includes('ZZS-101'));
    expect(west).toBeGreaterThan(0);
    expect(west).toBeLessThan(north);
  });

  it('says what is not there yet on an empty region', () => {
    const text = renderView(emptySnapshot(T0, '.brana', 1), { width: 100, color: false }).join('\n');
    expect(text).toContain('(not running)');
    expect(text).toContain('(none yet');
    expect(text).toContain('Rejected requests: 0');
  });

  it('colour adds escapes only: stripped, the text is the same', () => {
    const plain = renderView(busy(), { width: 300, color: false });
    const coloured = renderView(busy(), { width: 300, color: true });
    expect(coloured.join('\n')).toContain('\u001b[');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
    expect(coloured.map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''))).toEqual(plain);
  });

  it('never writes a line wider than the terminal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 160 }), fc.boolean(), (width, color) => {
        for (const line of renderView(busy(), { width, color })) {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
          expect(line.replace(/\u001b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(width);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('helpers', () => {
  it('fitWidth cuts with an ellipsis and keeps short lines', () => {
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    expect(fitWidth('abc', 4)).toBe('abc');
    expect(fitWidth('\u001b[1mabcdef\u001b[0m', 3)).toBe('\u001b[1mab…\u001b[0m');
  });
  it('formats durations and rates', () => {
    expect(formatDuration(5_000)).toBe('5s');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(3_600_000 + 120_000)).toBe('1h02m');
    expect(formatRate(0.5)).toBe('0.50');
    expect(formatRate(12.34)).toBe('12.3');
    expect(formatRate(250.4)).toBe('250');
    expect(formatLatency(null)).toBe('-');
    expect(formatLatency(3.21)).toBe('3.2 ms');
    expect(formatLatency(267)).toBe('267 ms');
    expect(formatLatency(10_486)).toBe('wait 10.5 s');
  });
});
