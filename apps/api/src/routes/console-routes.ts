import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';

/**
 * The console's policy: scripts only from its own hashed files (no inline script); WASM
 * compilation for onnxruntime-web; data only from this origin.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  // The annotated clip plays from a blob (fetched with the key).
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every console response: cross-origin isolation, so onnxruntime-web may use WASM threads. */
function isolate(res: Response) {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
}

/**
 * /console: the built single-page app (apps/console/dist, made by the set-up of `npm start`
 * and `npm test`). Hashed assets and the versioned onnxruntime-web files are cached for a
 * year; index.html never, so a new build is picked up on the next load.
 */
export function consoleRoutes(dir: string): Router {
  const r = Router();
  const index = path.join(dir, 'index.html');
  r.use('/console', (_req, res, next) => {
    isolate(res);
    next();
  });
  r.get('/console', (req, res, next) => {
    // Relative asset URLs need the trailing slash.
    if (req.path === '/console') return res.redirect(301, '/console/');
    next();
  });
  r.use('/console', express.static(dir, { index: false, immutable: true, maxAge: '365d', fallthrough: true }));
  r.get(['/console/', '/console/index.html'], (_req, res) => {
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run setup` (or `npm start`), which builds apps/console.\n');
      return;
    }
    res.set('Cache-Control', 'no-cache');
    res.sendFile(index, { cacheControl: false });
  });
  return r;
}
