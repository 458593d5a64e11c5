import { Router } from 'express';
import { probe } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import type { ApiMetrics } from '../api-metrics.js';
import { bearerToken } from '../middleware/auth.js';
import { lazyHandler } from '../middleware/lazy-handler.js';
import { openApiDocument } from '../openapi.js';

export interface SystemDeps {
  ping: () => Promise<unknown>;
  storage: ObjectStorage;
  version: string;
  metrics: ApiMetrics;
  metricsToken: string | undefined;
}

/** Welcome, health, readiness, metrics and the API documentation. */
export function systemRoutes(deps: SystemDeps): Router {
  const r = Router();
  const doc = openApiDocument(deps.version);

  r.get('/', (_req, res) => {
    res.json({
      name: 'Spotter',
      version: deps.version,
      message: 'Object detection API. Interactive documentation at /docs, OpenAPI 3.1 at /openapi.json.',
      docs: '/docs',
      openapi: '/openapi.json',
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
