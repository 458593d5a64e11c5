// Imported first by main.ts, before any module that builds a schema: zod decides at schema
// construction whether to compile fast parsers with `Function(...)`, and merely probing for
// it is reported as a violation by the console's CSP (no 'unsafe-eval').
import { config } from 'zod';

config({ jitless: true });
