import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Config } from '@spotter/config';
import { CreateJobFields, JobStatus, jobLinks, parseOrThrow, ValidationError, WaitTimeoutError } from '@spotter/shared';
import type { ApiMetrics } from '../api-metrics.js';
import { principalOf } from '../middleware/auth.js';
import { imageUpload } from '../uploads/image-upload.js';
import { jobFailure, type JobService } from '../services/job-service.js';

const MAX_WAIT_S = 30;

function parseWait(req: Request): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new ValidationError('wait must be a number of seconds between 0 and 30');
  return Math.min(n, MAX_WAIT_S);
}

const ListQuery = z
  .object({
    status: JobStatus.optional(),
    batch: z.string().max(64).optional(),
    cursor: z.string().regex(/^\d+$/, 'a cursor returned by a previous page').optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** /v1 job routes: thin handlers that parse, call the job service, map the answer. */
export function jobRoutes(service: JobService, config: Config, metrics: ApiMetrics): Router {
  const r = Router();
  const upload = imageUpload(config.http.maxUploadBytes, metrics);

  r.post('/v1/jobs', upload, async (req, res) => {
    const fields = parseOrThrow(CreateJobFields, req.body ?? {});
    const { id, replayed } = await service.create(principalOf(res).owner, req.file!.buffer, fields, req.get('idempotency-key'));
    const links = jobLinks(id, config.http.publicUrl);
    res.locals.jobId = id;
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).location(links.self).json({ id, status: 'queued', links });
  });

  r.get('/v1/jobs', async (req, res) => {
    const q = parseOrThrow(ListQuery, req.query, 'query');
    const page = await service.list(principalOf(res).owner, q);
    res.json({ jobs: page.items.map((j) => ({ ...j, links: jobLinks(j.id, config.http.publicUrl) })), next_cursor: page.next });
  });

  r.get('/v1/jobs/:id', async (req, res) => {
    const wait = parseWait(req);
    res.locals.jobId = req.params.id;
    const owner = principalOf(res).owner;
    res.json(wait > 0 ? await service.wait(owner, req.params.id, wait) : await service.get(owner, req.params.id));
  });

  // Cancels a job that is not final (202 with the cancelled job), erases a final one (204).
  r.delete('/v1/jobs/:id', async (req, res) => {
    res.locals.jobId = req.params.id;
    const cancelled = await service.remove(principalOf(res).owner, req.params.id);
    if (cancelled) return res.status(202).json(cancelled);
    res.status(204).end();
  });

  r.get('/v1/jobs/:id/annotated', async (req, res) => {
    res.locals.jobId = req.params.id;
    const jpeg = await service.annotated(principalOf(res).owner, req.params.id);
    res.type('image/jpeg').set('Cache-Control', 'private, max-age=3600').send(jpeg);
  });

  // The synchronous endpoint, built on the same queue: submit, then wait for the result.
  r.post('/v1/predict', upload, async (req, res) => {
    const fields = parseOrThrow(CreateJobFields, req.body ?? {});
    const owner = principalOf(res).owner;
    const { id } = await service.create(owner, req.file!.buffer, fields, req.get('idempotency-key'));
    res.locals.jobId = id;
    const timeoutS = config.http.predictTimeoutMs / 1000;
    const view = await service.wait(owner, id, timeoutS);
    if (view.status === 'queued' || view.status === 'running') {
      res.location(view.links.self);
      throw new WaitTimeoutError(id, timeoutS);
    }
    if (req.accepts(['application/json', 'image/jpeg']) !== 'image/jpeg') return res.json(view);
    if (view.status !== 'succeeded') {
      res.location(view.links.self);
      throw jobFailure(view);
    }
    res.type('image/jpeg').send(await service.annotated(owner, id));
  });

  return r;
}
