import { z } from 'zod';
import { gatewayConfigShape } from './schema.ts';

/** JSON Schema of the gateway config for editors (the cross-field rules are enforced only in code). */
export function gatewayConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(gatewayConfigShape, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
