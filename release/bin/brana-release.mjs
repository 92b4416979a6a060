#!/usr/bin/env node
// Shim: run the TypeScript CLI through tsx (a development and build-machine tool, never on a gateway).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/brana-release.ts');
