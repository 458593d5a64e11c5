import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Redis } from 'ioredis';
import type { ObjectStorage } from '@spotter/shared';
import type { ApiMetrics } from '../api-metrics.js';
import { openApiDocument } from '../openapi.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);

/** Welcome, health, readiness and the API documentation. */
export function systemRoutes(deps: { redis: Redis; storage: ObjectStorage; version: string; metrics: ApiMetrics }): Router {
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
    const checks = await Promise.allSettled([withTimeout(deps.redis.ping(), 2000), withTimeout(deps.storage.check(), 2000)]);
    const [redis, storage] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : `error: ${(c.reason as Error).message}`));
    const ready = checks.every((c) => c.status === 'fulfilled');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { redis, storage } });
  });
  r.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  r.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  r.use('/docs', swaggerUi.serve, swaggerUi.setup(doc, { customSiteTitle: 'Spotter API' }));
  return r;
}
