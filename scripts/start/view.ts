// The live terminal view: a pure function from a region snapshot to lines of text, so it can be
// tested without a terminal. Colour is optional (ANSI SGR) and never changes the text itself.
import type { GatewayState, PartState, RegionSnapshot } from './snapshot.ts';

export interface ViewOptions {
  /** Terminal columns; lines are cut to fit. */
  width: number;
  color: boolean;
  /** How many preemptions and notices to list. */
  maxPreemptions?: number;
  maxNotices?: number;
}

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
type Style = keyof typeof SGR;

function paint(on: boolean, style: Style, text: string): string {
  return on ? `\u001b[${SGR[style]}m${text}\u001b[0m` : text;
}

/** Cuts to `width` visible characters (ending in …), ignoring ANSI escapes when counting. */
export function fitWidth(line: string, width: number): string {
  if (width <= 0) return '';
  if (visibleLength(line) <= width) return line;
  let out = '';
  let visible = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\u001b') {
      const end = line.indexOf('m', i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible === width - 1) {
      out += '…';
      break;
    }
    out += line[i];
    visible++;
  }
  return out.includes('\u001b') ? `${out}\u001b[0m` : out;
}

function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what we strip
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

function pad(s: string, n: number): string {
  const len = visibleLength(s);
  return len >= n ? s : s + ' '.repeat(n - len);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, '0')}s`
      : `${sec}s`;
}

export function formatRate(perS: number): string {
  if (perS >= 100) return perS.toFixed(0);
  if (perS >= 10) return perS.toFixed(1);
  return perS.toFixed(2);
}

/**
 * Request to contact. Over a second means the request waited (a conflicting approach held, the
 * minimum gap, an ETA outside the window), which is the arbiter's decision, not the path's speed.
 */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '-';
  if (ms >= 1000) return `wait ${(ms / 1000).toFixed(1)} s`;
  return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

const GATEWAY_STYLE: Record<GatewayState, Style> = {
  starting: 'yellow',
  enrolling: 'yellow',
  online: 'green',
  offline: 'red',
  missing: 'dim',
  failed: 'red',
};
const PART_STYLE: Record<PartState, Style> = {
  starting: 'yellow',
  running: 'green',
  missing: 'dim',
  failed: 'red',
  stopped: 'dim',
};

function version(v: number | null): string {
  return v === null ? '-' : `v${v}`;
}

export function renderView(s: RegionSnapshot, o: ViewOptions): string[] {
  const c = o.color;
  const lines: string[] = [];
  const heading = (t: string) => lines.push(paint(c, 'bold', t));
  lines.push(
    `${paint(c, 'bold', 'Brána simulated region')}  up ${formatDuration(s.nowMs - s.startedAtMs)}  ` +
      `meters ×${s.speed}  data ${s.dataDir}`,
  );
  lines.push(`API      ${s.apiUrl ?? paint(c, 'dim', '(not running)')}`);
  lines.push(`console  ${s.consoleUrl ?? paint(c, 'dim', '(not available yet)')}`);

  if (s.parts.some((p) => p.state !== 'running')) {
    lines.push('');
    heading('Parts');
    for (const p of s.parts) {
      const state = p.detail
        ? `${paint(c, PART_STYLE[p.state], pad(p.state, 9))} ${p.detail}`
        : paint(c, PART_STYLE[p.state], p.state);
      lines.push(`  ${pad(p.name, 22)} ${state}`);
    }
  }

  lines.push('');
  heading('Gateways');
  if (s.gateways.length === 0) lines.push(paint(c, 'dim', '  (none)'));
  lines.push(
    paint(
      c,
      'dim',
      `  ${pad('site', 14)} ${pad('state', 10)} ${pad('config', 9)} ${pad('readings/s', 11)} ${pad('firmware', 22)} id`,
    ),
  );
  for (const g of s.gateways) {
    const cfg =
      g.desiredVersion !== null && g.desiredVersion !== g.runningVersion
        ? `${version(g.runningVersion)}→${version(g.desiredVersion)}`
        : version(g.runningVersion);
    const tail = g.detail ? `${g.gatewayId ?? ''} ${paint(c, 'dim', g.detail)}` : (g.gatewayId ?? '');
    const row = `  ${pad(g.site, 14)} ${paint(c, GATEWAY_STYLE[g.state], pad(g.state, 10))} ${pad(cfg, 9)} ${pad(formatRate(g.readingsPerS), 11)} ${pad(g.firmware ?? '-', 22)}`;
    lines.push(tail === '' ? row.trimEnd() : `${row} ${tail}`);
  }
  lines.push(
    `  readings ${formatRate(s.readingsPerS)}/s, ${s.readingsTotal} stored; events ${s.eventsTotal}; ` +
      `runs: ${s.runs.ambulance} ambulance, ${s.runs.bus} bus, ${s.runs.forged} forged`,
  );

  lines.push('');
  heading('Last preemptions');
  const pre = s.preemptions.slice(-(o.maxPreemptions ?? 6)).reverse();
  if (pre.length === 0)
    lines.push(paint(c, 'dim', '  (none yet: the first ambulance comes within a minute or so)'));
  else
    lines.push(
      paint(
        c,
        'dim',
        `  ${pad('time', 9)} ${pad('approach', 9)} ${pad('vehicle', 21)} ${pad('latency', 11)} released`,
      ),
    );
  for (const p of pre) {
    const latency = formatLatency(p.latencyMs);
    const released = p.released ?? paint(c, 'yellow', 'held');
    lines.push(
      `  ${pad(clockTime(p.atMs), 9)} ${pad(p.approach, 9)} ${pad(`${p.vehicle} (${p.role})`, 21)} ${pad(latency, 11)} ${released}`,
    );
  }

  lines.push('');
  const reasons = Object.entries(s.rejections).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = reasons.reduce((n, [, k]) => n + k, 0);
  heading(`Rejected requests: ${total}`);
  if (reasons.length > 0) lines.push(`  ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);

  lines.push('');
  heading('Rollouts');
  if (s.rollouts.length === 0) lines.push(paint(c, 'dim', '  (none)'));
  for (const r of s.rollouts.slice(-6)) {
    const style: Style =
      r.state === 'completed' ? 'green' : r.state === 'failed' || r.state === 'aborted' ? 'red' : 'yellow';
    lines.push(
      `  ${pad(r.site, 14)} v${pad(String(r.configVersion), 4)} ${paint(c, style, pad(r.state, 10))} ${r.applied}/${r.total} applied`,
    );
  }

  const notices = s.notices.slice(-(o.maxNotices ?? 4));
  if (notices.length > 0) {
    lines.push('');
    for (const n of notices) lines.push(paint(c, 'dim', `  ${n}`));
  }
  lines.push('');
  lines.push(paint(c, 'dim', 'Ctrl-C stops everything; the next npm start continues with the same data.'));
  return lines.map((l) => fitWidth(l, o.width));
}
