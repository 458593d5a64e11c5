import { Router, type Request } from 'express';
import {
  CreateJobFields,
  ImageDecodeError,
  InvalidRequestError,
  jobLinks,
  UnavailableError,
  WaitTimeoutError,
  type Config,
} from '@spotter/shared';
import type { ApiMetrics } from '../api-metrics.js';
import type { JobService } from '../job-service.js';
import { imageUpload } from '../middleware/upload.js';

const MAX_WAIT_S = 30;

function parseFields(body: unknown): CreateJobFields {
  const parsed = CreateJobFields.safeParse(body ?? {});
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new InvalidRequestError(msg);
  }
  return parsed.data;
}

function parseWait(req: Request): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new InvalidRequestError('wait must be a number of seconds between 0 and 30');
  return Math.min(n, MAX_WAIT_S);
}

/** The owner the auth middleware established for this request. */
const requestOwner = (res: { locals: Record<string, unknown> }) => res.locals.owner as string;

/** /v1 job routes: thin handlers that parse, call the job service, map the answer. */
export function jobRoutes(service: JobService, config: Config, metrics: ApiMetrics): Router {
  const r = Router();
  const upload = imageUpload(config.http.maxUploadBytes, metrics);

  r.post('/v1/jobs', upload, async (req, res) => {
    const fields = parseFields(req.body);
    const { id, replayed } = await service.create(requestOwner(res), req.file!.buffer, fields, req.get('idempotency-key'));
    const links = jobLinks(id, config.http.publicUrl);
    res.locals.jobId = id;
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).location(links.self).json({ id, status: 'queued', links });
  });

  r.get('/v1/jobs/:id', async (req, res) => {
    const wait = parseWait(req);
    res.locals.jobId = req.params.id;
    const view = wait > 0 ? await service.wait(requestOwner(res), req.params.id, wait) : await service.get(requestOwner(res), req.params.id);
    res.json(view);
  });

  r.get('/v1/jobs/:id/annotated', async (req, res) => {
    res.locals.jobId = req.params.id;
    const jpeg = await service.annotated(requestOwner(res), req.params.id);
    res.type('image/jpeg').set('Cache-Control', 'private, max-age=3600').send(jpeg);
  });

  // The synchronous endpoint, built on the same queue: submit, then wait for the result.
  r.post('/v1/predict', upload, async (req, res) => {
    const fields = parseFields(req.body);
    const owner = requestOwner(res);
    const { id } = await service.create(owner, req.file!.buffer, fields, req.get('idempotency-key'));
    res.locals.jobId = id;
    const timeoutS = config.http.predictTimeoutMs / 1000;
    const view = await service.wait(owner, id, timeoutS);
    if (view.status === 'queued' || view.status === 'running') {
      res.location(view.links.self);
      throw new WaitTimeoutError(id, timeoutS);
    }
    if (req.accepts(['application/json', 'image/jpeg']) !== 'image/jpeg') return res.json(view);
    if (view.status === 'failed') {
      res.location(view.links.self);
      const message = view.error?.message ?? 'the job failed';
      throw view.error?.code === 'IMAGE_DECODE_FAILED' ? new ImageDecodeError(message) : new UnavailableError(message);
    }
    res.type('image/jpeg').send(await service.annotated(owner, id));
  });

  return r;
}
