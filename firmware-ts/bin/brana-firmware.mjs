#!/usr/bin/env node
// Shim: run the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/brana-firmware.ts');
