import { Router } from 'express';
import { probe } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import type { ApiMetrics } from '../api-metrics.js';
import { bearerToken } from '../middleware/auth.js';
import { lazyHandler } from '../middleware/lazy-handler.js';
import { openApiDocument } from '../openapi/openapi-document.js';

export interface SystemDeps {
  ping: () => Promise<unknown>;
  storage: ObjectStorage;
  version: string;
  metrics: ApiMetrics;
  metricsToken: string | undefined;
}

const WELCOME_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page a browser sees at `/`: what Spotter is and where to go (no script). */
function welcomePage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spotter</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2330}a{color:#0b5cad}li{margin:.4rem 0}</style>
</head>
<body>
<h1>Spotter <small>${version.replace(/[^\w.+-]/g, '')}</small></h1>
<p>An object-detection model server: upload an image, get boxes back.</p>
<ul>
<li><a href="/console/">Console</a>: try an image, run the model in your browser, follow jobs, models, drift and evaluation reports.</li>
<li><a href="/docs">API documentation</a> (OpenAPI 3.1 at <a href="/openapi.json">/openapi.json</a>).</li>
</ul>
</body>
</html>
`;
}

/** Welcome, health, readiness, metrics and the API documentation. */
export function systemRoutes(deps: SystemDeps): Router {
  const r = Router();
  const doc = openApiDocument(deps.version);

  r.get('/', (req, res) => {
    // Browsers get a page with links; API clients (and `Accept: */*`) keep the JSON.
    if (req.accepts(['application/json', 'text/html']) === 'text/html') {
      res.set({ 'Content-Security-Policy': WELCOME_CSP, 'X-Content-Type-Options': 'nosniff' });
      return void res.type('html').send(welcomePage(deps.version));
    }
    res.json({
      name: 'Spotter',
      version: deps.version,
      message: 'Object detection API. Interactive documentation at /docs, OpenAPI 3.1 at /openapi.json.',
      docs: '/docs',
      openapi: '/openapi.json',
      console: '/console/',
    });
  });
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const [redis, storage] = await Promise.all([probe(deps.ping, 1000), probe(() => deps.storage.check(), 1000)]);
    const ready = redis === 'ok' && storage === 'ok';
    if (!ready) res.set('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { redis, storage } });
  });
  // Queue gauges read Redis at scrape time; while it is down they are left out and
  // spotter_redis_up reads 0, so Prometheus keeps the process metrics (a 503 would hide them).
  r.get('/metrics', bearerToken(deps.metricsToken), async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  r.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  r.use(
    '/docs',
    lazyHandler(async () => {
      const { default: swaggerUi } = await import('swagger-ui-express');
      return Router().use(swaggerUi.serve, swaggerUi.setup(doc, { customSiteTitle: 'Spotter API' }));
    }),
  );
  return r;
}
