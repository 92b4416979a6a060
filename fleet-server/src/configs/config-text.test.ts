import { describe, expect, it } from 'vitest';
import { configToText, parseConfigText, parsePath } from './config-text.ts';

describe('config text', () => {
  it('splits a validation path into keys and indices', () => {
    expect(parsePath('preemption.approaches[2].output')).toStrictEqual([
      'preemption',
      'approaches',
      2,
      'output',
    ]);
    expect(parsePath('')).toStrictEqual([]);
  });

  it('finds the line of a path, or of its nearest parent when the field is missing', () => {
    const text = [
      'gateway:',
      '  id: a',
      'preemption:',
      '  approaches:',
      '    - name: north',
      '    - name: south',
      '      output: 7',
      '',
    ].join('\n');
    const r = parseConfigText(text);
    if (!r.ok) throw new Error(r.message);
    expect(r.lineOf('preemption.approaches[1].output')).toBe(7);
    expect(r.lineOf('preemption.approaches[0].output')).toBe(5);
    expect(r.lineOf('gateway.id')).toBe(2);
  });

  it('reads JSON too and reports a syntax error with its line', () => {
    const json = parseConfigText('{"a": [1, 2]}');
    expect(json.ok && json.value).toStrictEqual({ a: [1, 2] });
    const bad = parseConfigText('a: 1\nb: [1, 2\nc: 3\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.line).toBeGreaterThanOrEqual(2);
  });

  it('round-trips a config through text', () => {
    const config = { telemetry: { intervalS: 900 }, relays: [{ id: 'r1', pin: 17 }] };
    const r = parseConfigText(configToText(config));
    expect(r.ok && r.value).toStrictEqual(config);
  });
});
