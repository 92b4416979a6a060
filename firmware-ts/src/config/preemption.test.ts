import { describe, expect, it } from 'vitest';
import { testPreemptionDoc } from '../../test/support/rt-fixtures.ts';
import { preemptionSchema } from './preemption.ts';
import { validateGatewayConfig } from './validate.ts';

describe('preemption config (rt timing)', () => {
  it('fills the rt timing defaults', () => {
    const doc = testPreemptionDoc();
    const { timing: _t, ...rest } = doc;
    const p = preemptionSchema.parse(rest);
    expect(p.timing).toMatchObject({
      freshnessS: 2,
      updateTimeoutS: 3,
      holdMaxS: 120,
      etaWindowS: 30,
      releaseMs: 300,
      readbackSettleMs: 100,
    });
  });

  it('names the path of an out-of-range timing value', () => {
    const doc = testPreemptionDoc({ timing: { readbackSettleMs: 0 } });
    const r = validateGatewayConfig({ name: 'x', preemption: doc });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('preemption.timing.readbackSettleMs');
  });

  it('rejects an optical input or test contact on an unknown approach', () => {
    const doc = {
      ...testPreemptionDoc(),
      inputs: { optical: [{ line: 'opt-n', approach: 'nord' }], testContact: { line: 'tc', approach: 'x' } },
    };
    const r = validateGatewayConfig({ name: 'x', preemption: doc });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.path)).toEqual(
        expect.arrayContaining([
          'preemption.inputs.optical[0].approach',
          'preemption.inputs.testContact.approach',
        ]),
      );
    }
  });
});
