import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_PROFILE_JSON_SCHEMA_PATH, renderDeviceProfileJsonSchema } from './json-schema.ts';

const root = join(import.meta.dirname, '..', '..');

describe('generated JSON Schema', () => {
  it('the committed schema/device-profile.schema.json matches the zod schema (run `npm run schema -w @brana/hardware` if not)', () => {
    const committed = readFileSync(join(root, DEVICE_PROFILE_JSON_SCHEMA_PATH), 'utf8');
    expect(
      committed === renderDeviceProfileJsonSchema(),
      'schema file is stale: run `npm run schema -w @brana/hardware`',
    ).toBe(true);
  });
  it('describes the four device kinds and the sim models', () => {
    const text = renderDeviceProfileJsonSchema();
    for (const kind of ['modbus', 's0', 'optical-detector', 'serial-radio'])
      expect(text).toContain(`"const": "${kind}"`);
    for (const model of ['"walk"', '"integral"', '"flow"', '"follow"', '"sum"', '"constant"'])
      expect(text).toContain(model);
  });
});
