import { Router, type Response } from 'express';
import { z } from 'zod';
import { cocoImageId, CreateBatchFromPrefix, parseOrThrow } from '@spotter/shared';
import { principalOf } from '../middleware/auth.js';
import type { BatchService } from '../services/batch-service.js';

const ResultsQuery = z.object({ format: z.enum(['jsonl', 'coco']).default('jsonl') }).strict();

/** Writes a chunk, waiting when the client reads slower than we produce. */
const write = (res: Response, chunk: string) => (res.write(chunk) ? undefined : new Promise((r) => res.once('drain', r)));

/** /v1/batches: create (uploads, archive, or an intake prefix), read, stream results, cancel. */
export function batchRoutes(batches: BatchService): Router {
  const r = Router();

  r.post('/v1/batches', async (req, res) => {
    const owner = principalOf(res).owner;
    const key = req.get('idempotency-key');
    const { id, replayed } = req.is('application/json')
      ? await (async () => {
          const body = parseOrThrow(CreateBatchFromPrefix, req.body);
          return batches.fromPrefix(owner, body.source.prefix, body, key);
        })()
      : await batches.fromUpload(owner, req, key);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    const view = await batches.get(owner, id);
    res.status(202).location(view.links.self).json(view);
  });

  r.get('/v1/batches/:id', async (req, res) => {
    res.json(await batches.get(principalOf(res).owner, req.params.id));
  });

  r.get('/v1/batches/:id/results', async (req, res) => {
    const { format } = parseOrThrow(ResultsQuery, req.query, 'query');
    const results = batches.results(principalOf(res).owner, req.params.id);
    // The first item is read before answering, so an unknown batch is still a clean 404.
    const first = await results.next();
    if (format === 'jsonl') {
      res.type('application/x-ndjson');
      for (let r1 = first; !r1.done; r1 = await results.next()) {
        const { item, status, job } = r1.value;
        await write(res, `${JSON.stringify({ item: item.item, source: item.source, job_id: item.job_id, status, detections: job?.result?.detections ?? null, error: job?.error ?? null })}\n`);
      }
      return res.end();
    }
    // COCO results: what `spotter eval --predictions` reads, image ids as the dataset loader derives them.
    res.type('application/json');
    const used = new Set<number>();
    let sep = '[';
    for (let r1 = first; !r1.done; r1 = await results.next()) {
      const { item, job } = r1.value;
      const imageId = cocoImageId(item.source, item.item, used);
      for (const d of job?.result?.detections ?? []) {
        const { x1, y1, x2, y2 } = d.box;
        await write(res, `${sep}${JSON.stringify({ image_id: imageId, category_id: d.class_id, bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score })}`);
        sep = ',';
      }
    }
    res.end(sep === '[' ? '[]' : ']');
  });

  r.delete('/v1/batches/:id', async (req, res) => {
    res.json(await batches.cancel(principalOf(res).owner, req.params.id));
  });

  return r;
}
