// Writes firmware-ts/src/config/node-red-types.ts from the installed Node-RED's node registry
// (core nodes and node-red-contrib-brana), so that validateFlows knows exactly what the gateway's
// Node-RED loads. Run after upgrading Node-RED or changing the Brána nodes:
//   npx tsx scripts/node-red-types.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryTypes, renderTypesModule } from '@brana/gateway';

const BRANA = 'node-red-contrib-brana';
const target = join(import.meta.dirname, '..', 'firmware-ts', 'src', 'config', 'node-red-types.ts');
const types = await registryTypes([BRANA]);
writeFileSync(target, renderTypesModule(types, BRANA));
console.log(
  `wrote ${target}: Node-RED ${types.version}, ${types.modules['node-red']?.length ?? 0} core types, ${types.modules[BRANA]?.length ?? 0} Brána types`,
);
