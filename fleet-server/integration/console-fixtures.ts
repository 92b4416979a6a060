// Test fixtures for the console's browser tests.
import type { ConfigValidator } from '../src/configs/index.ts';

/**
 * A stand-in for @brana/firmware's validateGatewayConfig (not exported from the package at the time
 * of writing): a config needs a name and a positive telemetry.uploadIntervalS, with path-level errors.
 */
export const acceptNamedConfigs: ConfigValidator = (doc) => {
  const errors: { path: string; message: string; fix: string }[] = [];
  const d = (doc ?? {}) as { name?: unknown; telemetry?: { uploadIntervalS?: unknown } };
  if (typeof d.name !== 'string' || d.name === '')
    errors.push({ path: 'name', message: 'expected a name', fix: 'add name (a string)' });
  const up = d.telemetry?.uploadIntervalS;
  if (up !== undefined && !(typeof up === 'number' && up > 0)) {
    errors.push({
      path: 'telemetry.uploadIntervalS',
      message: 'Too small: expected number to be >0',
      fix: 'set a positive number of seconds',
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, config: doc };
};
