import type { FlowNode } from '@brana/firmware';
import { describe, expect, it } from 'vitest';
import type { NodeRef } from './link.ts';
import { type TrialSighting, trialVerdict } from './trial.ts';

const flows: FlowNode[] = [
  { id: 'tab', type: 'tab', label: 'SOS' },
  { id: 'in', type: 'inject', z: 'tab', name: 'tick', x: 1, y: 1, wires: [['fn']] },
  { id: 'fn', type: 'function', z: 'tab', name: 'escalate', x: 2, y: 1, wires: [[]] },
];
const started = (rev: string, notStarted: NodeRef[] = []): TrialSighting => ({
  kind: 'started',
  rev,
  notStarted,
});
const error = (id: string | undefined, message: string): TrialSighting => ({
  kind: 'error',
  level: 'error',
  message,
  node: id === undefined ? undefined : { id, type: 'function', name: 'escalate' },
});

describe('trialVerdict', () => {
  it('passes when the deployed revision started with every node and nothing logged an error', () => {
    expect(trialVerdict([{ kind: 'stopped' }, started('r2')], 'r2', flows)).toEqual({ ok: true, issues: [] });
  });

  it('names a failing node by its path in the config, once, with its first message', () => {
    const v = trialVerdict(
      [{ kind: 'stopped' }, started('r2'), error('fn', 'boom 1'), error('fn', 'boom 2')],
      'r2',
      flows,
    );
    expect(v.issues).toEqual([
      {
        path: 'flows[2]',
        message: 'node "escalate" (function): boom 1',
        fix: expect.stringContaining('last good flows'),
      },
    ]);
  });

  it('ignores errors of the old flows stopping, but not an exit at any time', () => {
    const sightings: TrialSighting[] = [
      error('fn', 'old flow closing'),
      { kind: 'stopped' },
      started('r2'),
      { kind: 'exit', how: 'was killed by SIGKILL' },
    ];
    expect(trialVerdict(sightings, 'r2', flows).issues.map((i) => i.message)).toEqual([
      'Node-RED was killed by SIGKILL during the trial',
    ]);
  });

  it('fails nodes that did not start, flows blocked on missing types, and flows never seen to start', () => {
    expect(
      trialVerdict([started('r2', [{ id: 'fn', type: 'function', name: 'escalate' }])], 'r2', flows)
        .issues[0],
    ).toMatchObject({
      path: 'flows[2]',
      message: 'node "escalate" (function) did not start',
    });
    expect(
      trialVerdict([{ kind: 'blocked', error: 'missing-types', types: ['brana in'] }], 'r2', flows).issues,
    ).toEqual([
      expect.objectContaining({
        path: 'flows',
        message: 'Node-RED did not start the flows (missing-types: brana in)',
      }),
    ]);
    // A start of another revision (the previous flows) does not count for this one.
    expect(trialVerdict([started('r1')], 'r2', flows).issues[0]?.message).toBe(
      'the deployed flows were not seen to start',
    );
  });
});
