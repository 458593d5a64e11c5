import express, { Router, type Request } from 'express';
import type { Config } from '@spotter/config';
import { jobLinks, probe, WaitTimeoutError } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import { principalOf } from '../middleware/auth.js';
import { parseInferRequest } from '../oip/infer-request.js';
import type { OipService } from '../oip/oip-service.js';

/** The routes of one model: unversioned, and at `/versions/{version}` (the registry's version). */
const modelPaths = (suffix: string) => [`/v2/models/:name${suffix}`, `/v2/models/:name/versions/:version${suffix}`];
const named = (req: Request) => req.params as { name: string; version?: string };

/** `/v2/health/live` and `/v2/health/ready`: no key, like /healthz and /readyz (Kubernetes probes). */
export function oipHealthRoutes(deps: { ping: () => Promise<unknown>; storage: ObjectStorage; oip: OipService; config: Config }): Router {
  const r = Router();
  r.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  // Ready: Redis and storage reachable, and the default model's file usable.
  r.get('/v2/health/ready', async (_req, res) => {
    const [redis, storage] = await Promise.all([probe(deps.ping, 1000), probe(() => deps.storage.check(), 1000)]);
    const problem = deps.oip.notReady(await deps.oip.model(deps.config.model.name));
    if (redis === 'ok' && storage === 'ok' && !problem) return void res.json({ ready: true });
    res.set('Retry-After', '5');
    res.status(503).json({ error: `not ready: redis ${redis}, storage ${storage}${problem ? `, model ${problem}` : ''}` });
  });
  return r;
}

/**
 * The Open Inference Protocol's server metadata, model metadata and readiness, and inference
 * (JSON, or the binary tensor data extension), behind the same keys and limits as /v1.
 */
export function oipRoutes(oip: OipService, config: Config, version_: string): Router {
  const r = Router();
  // The whole body, JSON header and binary tensors alike, within the upload limit; gzip and
  // deflate bodies (tritonclient's request compression) are inflated by the parser.
  const body = express.raw({ type: () => true, limit: config.http.maxUploadBytes });

  r.get('/v2', (_req, res) => {
    res.json({ name: 'spotter', version: version_, extensions: ['binary_tensor_data'] });
  });
  for (const path of modelPaths('')) {
    r.get(path, async (req, res) => {
      res.json(oip.metadata(await oip.model(named(req).name, named(req).version)));
    });
  }
  for (const path of modelPaths('/ready')) {
    r.get(path, async (req, res) => {
      const m = await oip.model(named(req).name, named(req).version);
      const problem = oip.notReady(m);
      if (!problem) return void res.json({ name: m.name, ready: true });
      res.status(503).json({ error: `model "${m.name}" is not ready: ${problem}` });
    });
  }
  for (const path of modelPaths('/infer')) {
    r.post(path, body, async (req, res) => {
      const m = await oip.model(named(req).name, named(req).version);
      const request = parseInferRequest(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.get('inference-header-content-length'));
      try {
        const { jobId, body: answer, binary } = await oip.infer(principalOf(res).owner, m, request, req.get('idempotency-key'));
        res.locals.jobId = jobId;
        if (binary.length === 0) return void res.json(answer);
        const json = Buffer.from(JSON.stringify(answer));
        res.set('Inference-Header-Content-Length', String(json.length)).type('application/octet-stream').send(Buffer.concat([json, ...binary]));
      } catch (err) {
        // Like /v1/predict: a job still running can be polled.
        if (err instanceof WaitTimeoutError) res.location(jobLinks(err.jobId, config.http.publicUrl).self);
        throw err;
      }
    });
  }
  return r;
}
