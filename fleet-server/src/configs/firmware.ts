// The fleet server validates configs with the very schema the gateway applies them with.
import { validateGatewayConfig } from '@brana/firmware';
import type { ConfigValidator } from './store.ts';

export const firmwareConfigValidator: ConfigValidator = (doc) => validateGatewayConfig(doc);
