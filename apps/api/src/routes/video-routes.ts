import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import type { ObjectStream } from '@spotter/storage';
import { DetectionsQuery, parseOrThrow } from '@spotter/shared';
import { principalOf } from '../middleware/auth.js';
import type { VideoService } from '../services/video-service.js';

const RESULTS = {
  tracks: ['tracks.json', 'application/json'],
  counts: ['counts.json', 'application/json'],
  events: ['events.json', 'application/json'],
  annotated: ['annotated.mp4', 'video/mp4'],
} as const;

/** Streams a stored result. Once the headers are out an error can only cut the answer short (pipeline destroys it). */
async function send(res: Response, type: string, { body, bytes }: ObjectStream) {
  res.type(type);
  if (bytes !== null) res.set('Content-Length', String(bytes));
  await pipeline(body, res).catch(() => undefined);
}

/** /v1/videos: create (upload or a key in storage), read status and progress, read the results, cancel or erase. */
export function videoRoutes(videos: VideoService): Router {
  const r = Router();

  r.post('/v1/videos', async (req, res) => {
    const owner = principalOf(res).owner;
    const key = req.get('idempotency-key');
    const { id, replayed } = req.is('application/json') ? await videos.fromKey(owner, req.body, key) : await videos.fromUpload(owner, req, key);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    const view = await videos.get(owner, id);
    res.status(202).location(view.links.self).json(view);
  });

  r.get('/v1/videos/:id', async (req, res) => {
    res.json(await videos.get(principalOf(res).owner, req.params.id));
  });

  // Cancels a video that is not final (202 with the cancelled video), erases a final one (204).
  r.delete('/v1/videos/:id', async (req, res) => {
    const cancelled = await videos.remove(principalOf(res).owner, req.params.id);
    if (cancelled) return res.status(202).json(cancelled);
    res.status(204).end();
  });

  r.get('/v1/videos/:id/detections', async (req, res) => {
    const q = parseOrThrow(DetectionsQuery, req.query, 'query');
    const { next, ...page } = await videos.detections(principalOf(res).owner, req.params.id, q.from_frame, q.limit);
    if (next !== null) res.links({ next: `/v1/videos/${req.params.id}/detections?from_frame=${next}&limit=${q.limit}` });
    await send(res, 'application/x-ndjson', page);
  });

  for (const [name, [file, type]] of Object.entries(RESULTS)) {
    r.get(`/v1/videos/:id/${name}`, async (req, res) => {
      await send(res, type, await videos.result(principalOf(res).owner, req.params.id, file));
    });
  }

  return r;
}
