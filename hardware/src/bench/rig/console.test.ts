import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConsoleCommand } from './console.ts';

describe('bench console commands', () => {
  it('parses each command', () => {
    expect(parseConsoleCommand('fault ttyA 3 timeout')).toEqual({
      ok: true,
      command: { cmd: 'fault', bus: 'ttyA', unit: 3, rule: { kind: 'timeout' } },
    });
    expect(parseConsoleCommand(' fault tcp0 1 exception 6 ')).toEqual({
      ok: true,
      command: { cmd: 'fault', bus: 'tcp0', unit: 1, rule: { kind: 'exception', code: 6 } },
    });
    expect(parseConsoleCommand('fault tcp0 1 delay 800')).toMatchObject({
      ok: true,
      command: { rule: { kind: 'delay', delayMs: 800 } },
    });
    expect(parseConsoleCommand('set sos.button 1')).toEqual({
      ok: true,
      command: { cmd: 'set', line: 'sos.button', level: 1 },
    });
    expect(parseConsoleCommand('values ttyA 104')).toEqual({
      ok: true,
      command: { cmd: 'values', bus: 'ttyA', unit: 104 },
    });
    expect(parseConsoleCommand('tcp lan refuse')).toEqual({
      ok: true,
      command: { cmd: 'tcp', bus: 'lan', action: 'refuse' },
    });
    expect(parseConsoleCommand('tcp lan drop')).toMatchObject({ ok: true, command: { action: 'drop' } });
    expect(parseConsoleCommand('fault lan 1 close')).toMatchObject({
      ok: true,
      command: { rule: { kind: 'close' } },
    });
    expect(parseConsoleCommand('')).toEqual({ ok: true, command: { cmd: 'help' } });
    expect(parseConsoleCommand('quit')).toEqual({ ok: true, command: { cmd: 'stop' } });
  });

  it('explains what is wrong', () => {
    expect(parseConsoleCommand('tcp lan melt')).toMatchObject({
      ok: false,
      error: expect.stringMatching(
        /unknown action "melt"; usage: tcp <bus> <serve\|stall\|refuse\|blackhole\|drop>/,
      ),
    });
    expect(parseConsoleCommand('tcp lan')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^usage: tcp/),
    });
    expect(parseConsoleCommand('fault ttyA 300 timeout')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unit 1-247/),
    });
    expect(parseConsoleCommand('fault ttyA 1 melt')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown fault "melt"/),
    });
    expect(parseConsoleCommand('fault ttyA 1 exception 5')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/code 1-4 or 6/),
    });
    expect(parseConsoleCommand('set x 2')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/set <line> <0\|1>/),
    });
    expect(parseConsoleCommand('reboot')).toMatchObject({
      ok: false,
      error: 'unknown command "reboot"; type help',
    });
  });

  it('never throws on any line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (line) => {
        const r = parseConsoleCommand(line);
        if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
      }),
    );
  });
});
