// The end of a chaos run as people read it (a table) and as tools read it (one JSON line).
import type { ChaosResult } from './run.ts';

export const GOAL = { faultsPer10Min: 200 };

export function jsonLine(r: ChaosResult): string {
  return JSON.stringify({
    bench: 'chaos',
    case: 'region',
    faults: r.faults,
    lost: r.lost,
    duplicated: r.duplicated,
    unsafe: r.unsafe,
    unservedEmergency: r.unservedEmergency,
    minutes: r.minutes,
    droppedByPolicy: r.readings.droppedByPolicy,
    lostInKilledFirmware: Object.entries(r.readings.excused)
      .filter(([k]) => k !== 'disk full')
      .reduce((n, [, v]) => n + v, 0),
    meterAnswers: r.readings.answers,
    stored: r.readings.stored,
    emergencyRuns: r.emergency.runs,
  });
}

const pct = (n: number, total: number) => (total === 0 ? '' : ` (${((100 * n) / total).toFixed(2)} %)`);

export function renderTable(r: ChaosResult): string[] {
  const c = r.readings;
  const e = r.emergency;
  const lat = [...e.latenciesMs].sort((a, b) => a - b);
  const q = (p: number) =>
    lat.length ? `${Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!)} ms` : '-';
  const goal = (ok: boolean) => (ok ? 'ok' : 'NOT MET');
  const rows: [string, string, string][] = [
    [
      'faults injected',
      `${r.faults} in ${r.minutes} min (${Object.entries(r.faultsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
      goal(r.faults >= (GOAL.faultsPer10Min * r.minutes) / 10),
    ],
    ['meter answers', String(c.answers), ''],
    ['  stored at the fleet', `${c.stored}${pct(c.stored, c.answers)}`, ''],
    [
      '  read failed at the gateway',
      `${c.missed} (late or garbled answers the gateway recorded as faults)`,
      '',
    ],
    ...Object.entries(c.excused).map(([k, n]): [string, string, string] => [
      `  ${k}`,
      `${n}${pct(n, c.answers)}`,
      'counted apart',
    ]),
    [
      '  dropped by disk-full policy',
      `${c.droppedByPolicy} (the gateways reported ${c.gatewayReportedDrops})`,
      'counted apart',
    ],
    ['lost', String(r.lost), goal(r.lost === 0)],
    ['duplicated', String(r.duplicated), goal(r.duplicated === 0)],
    ['unsafe (controller saw)', String(r.unsafe), goal(r.unsafe === 0)],
    [
      'emergency runs',
      `${e.runs}, servable ${e.servable}, never servable ${e.neverServable}; contact p50 ${q(0.5)}, max ${q(1)}`,
      '',
    ],
    ['unserved emergency', String(r.unservedEmergency), goal(r.unservedEmergency === 0)],
    ['data disk', r.disk, ''],
    ['gateway clocks', r.clock, ''],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.min(90, Math.max(...rows.map((x) => x[1].length)));
  const lines = rows.map(([a, b, g]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${g}`.trimEnd());
  for (const f of r.findings.slice(0, 10)) lines.push(`  unsafe: ${f.kind}: ${f.detail}`);
  for (const s of e.unservedSamples) lines.push(`  unserved: ${s}`);
  for (const a of c.lostSamples.slice(0, 5))
    lines.push(
      `  lost: ${a.site} unit ${a.unit} fc ${a.fc} ${a.address}+${a.count} answered ${new Date(a.atMs).toISOString()}`,
    );
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines;
}
