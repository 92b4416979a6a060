// The wiring check as a table a technician reads on a laptop in a cabinet: one row per line or
// device, what was found, and what to do about it.
import type { VerifyReport } from './run.ts';

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatReport(report: VerifyReport): string {
  const rows: string[][] = [['KIND', 'NAME', 'WHERE', 'RESULT', 'DETAIL']];
  for (const i of report.inputs) rows.push([i.role, i.name, i.line, i.result, i.detail]);
  for (const o of report.outputs)
    rows.push([o.role, o.name, o.readback ? `${o.line} → ${o.readback}` : o.line, o.result, o.detail]);
  for (const d of report.devices)
    rows.push(['modbus', d.device, `${d.bus} unit ${d.unit}`, d.result, d.detail]);
  const bad =
    report.outputs.filter((o) => o.result !== 'ok' && o.result !== 'pulsed' && o.result !== 'skipped')
      .length +
    report.devices.filter((d) => d.result !== 'answer' && d.result !== 'skipped').length +
    report.inputs.filter((i) => i.result === 'error').length;
  const summary = report.interrupted
    ? 'INTERRUPTED: every output was switched off'
    : report.ok
      ? 'OK: wiring as configured'
      : `${bad} problem${bad === 1 ? '' : 's'} found`;
  return `${rows.length > 1 ? formatTable(rows) : '(the config has no inputs, outputs or Modbus devices)'}\n${summary}\n`;
}
