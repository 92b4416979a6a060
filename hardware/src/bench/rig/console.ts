// Commands a person types into a running `brana-bench up`: faults on demand, wire levels, and the
// values the simulator serves (to compare with what a master reads).

import { FAULT_KINDS, type FaultRule } from '../modbus-sim/faults.ts';
import { TCP_SERVER_MODES, type TcpServerMode } from '../modbus-sim/tcp-server.ts';
import type { Level } from '../wires/types.ts';

export type ConsoleCommand =
  | { cmd: 'help' }
  | { cmd: 'fault'; bus: string; unit: number; rule: FaultRule }
  | { cmd: 'set'; line: string; level: Level }
  | { cmd: 'values'; bus: string; unit: number }
  | { cmd: 'tcp'; bus: string; action: TcpServerMode | 'drop' }
  | { cmd: 'stop' };

const TCP_ACTIONS = [...TCP_SERVER_MODES, 'drop'] as const;

export const CONSOLE_HELP = [
  'fault <bus> <unit> <timeout|badCrc|exception [code]|partial|delay [ms]|close>   next request to that device shows the fault',
  'tcp <bus> <drop|refuse|blackhole|stall|serve>                             a TCP bus closes its connections, refuses, ignores connection attempts, stops answering, or serves again',
  'set <line> <0|1>                                                          drive a wire line',
  'values <bus> <unit>                                                       print what the device serves now',
  'stop                                                                      stop the rig (same as Ctrl-C)',
];

export type ParsedCommand = { ok: true; command: ConsoleCommand } | { ok: false; error: string };

const fail = (error: string): ParsedCommand => ({ ok: false, error });

function unitOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 247 ? n : undefined;
}

/** Parse one console line. Never throws; an error says what is wrong and what to type. */
export function parseConsoleCommand(line: string): ParsedCommand {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const [cmd, ...args] = words;
  switch (cmd) {
    case undefined:
    case 'help':
    case '?':
      return { ok: true, command: { cmd: 'help' } };
    case 'stop':
    case 'quit':
      return { ok: true, command: { cmd: 'stop' } };
    case 'set': {
      const [line, level] = args;
      if (line === undefined || (level !== '0' && level !== '1') || args.length !== 2) {
        return fail('usage: set <line> <0|1>, e.g. set sos.button 1');
      }
      return { ok: true, command: { cmd: 'set', line, level: level === '1' ? 1 : 0 } };
    }
    case 'values': {
      const [bus, unitText] = args;
      const unit = unitOf(unitText);
      if (bus === undefined || unit === undefined || args.length !== 2)
        return fail('usage: values <bus> <unit 1-247>');
      return { ok: true, command: { cmd: 'values', bus, unit } };
    }
    case 'tcp': {
      const [bus, action] = args;
      const usage = `usage: tcp <bus> <${TCP_ACTIONS.join('|')}>`;
      if (bus === undefined || action === undefined || args.length !== 2) return fail(usage);
      if (!(TCP_ACTIONS as readonly string[]).includes(action))
        return fail(`unknown action "${action}"; ${usage}`);
      return { ok: true, command: { cmd: 'tcp', bus, action: action as TcpServerMode | 'drop' } };
    }
    case 'fault': {
      const [bus, unitText, kind, extra, ...rest] = args;
      const unit = unitOf(unitText);
      const usage = `usage: fault <bus> <unit 1-247> <${FAULT_KINDS.join('|')}> [code|ms]`;
      if (bus === undefined || unit === undefined || rest.length > 0) return fail(usage);
      if (!(FAULT_KINDS as readonly string[]).includes(kind ?? ''))
        return fail(`unknown fault "${kind ?? ''}"; ${usage}`);
      const rule: FaultRule = { kind: kind as FaultRule['kind'] };
      if (extra !== undefined) {
        const n = Number(extra);
        if (rule.kind === 'exception' && [1, 2, 3, 4, 6].includes(n)) rule.code = n;
        else if (rule.kind === 'delay' && Number.isFinite(n) && n >= 0 && n <= 60_000) rule.delayMs = n;
        else
          return fail(
            `"${extra}" is not valid for ${rule.kind}: an exception takes a code 1-4 or 6, a delay 0-60000 ms`,
          );
      }
      return { ok: true, command: { cmd: 'fault', bus, unit, rule } };
    }
    default:
      return fail(`unknown command "${cmd}"; type help`);
  }
}
