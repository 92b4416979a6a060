import { BRANA_NODE_TYPES, NODE_RED_CORE_TYPES, NODE_RED_VERSION } from '@brana/firmware';
import { describe, expect, it } from 'vitest';
import { registryTypes } from './registry-types.ts';
import { BRANA_MODULE } from './settings.ts';

describe('the node types validateFlows knows', () => {
  it('are what the installed Node-RED registry loads (else: npx tsx scripts/node-red-types.ts)', async () => {
    const registry = await registryTypes([BRANA_MODULE]);
    expect(registry.version).toBe(NODE_RED_VERSION);
    expect([...(registry.modules['node-red'] ?? [])].sort()).toEqual(NODE_RED_CORE_TYPES);
    expect([...(registry.modules[BRANA_MODULE] ?? [])].sort()).toEqual(BRANA_NODE_TYPES);
    // Only the modules asked for are loaded, whatever else is installed beside Node-RED.
    expect(Object.keys(registry.modules).sort()).toEqual(
      ['node-red', ...(BRANA_NODE_TYPES.length > 0 ? [BRANA_MODULE] : [])].sort(),
    );
  });
});
