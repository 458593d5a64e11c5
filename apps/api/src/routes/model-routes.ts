import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router } from 'express';
import { InvalidRequestError, RolloutRequest } from '@spotter/shared';
import type { RolloutService } from '../rollout-service.js';

async function describeModels(rollout: RolloutService) {
  return Promise.all(
    [...rollout.registry.values()].map(async (m) => {
      const bytes = await readFile(m.path).catch(() => null);
      const report = m.eval_report
        ? await readFile(path.join(path.dirname(m.path), m.eval_report), 'utf8').then((t) => JSON.parse(t) as { metrics?: unknown }, () => null)
        : null;
      return {
        name: m.name,
        version: m.version ?? (bytes ? createHash('sha256').update(bytes).digest('hex').slice(0, 12) : null),
        format: m.format,
        file: m.file,
        available: bytes !== null,
        score_threshold: m.score_threshold,
        nms_iou: m.nms_iou,
        labels: m.labels === 'coco' ? 80 : m.labels.length,
        eval: report?.metrics ?? null,
      };
    }),
  );
}

/** GET /v1/models, and the rollout: state, counters, start, promote, roll back. */
export function modelRoutes(rollout: RolloutService): Router {
  const r = Router();
  // The registry is fixed for the life of the process; describe it once.
  const described = describeModels(rollout);

  r.get('/v1/models', async (_req, res) => {
    const state = await rollout.state();
    const models = (await described).map((m) => ({ ...m, role: m.name === state.live ? 'live' : m.name === state.candidate ? state.mode : null }));
    res.json({ models });
  });
  r.get('/v1/rollout', async (_req, res) => {
    res.json(await rollout.report());
  });
  r.post('/v1/rollout', async (req, res) => {
    const parsed = RolloutRequest.safeParse(req.body);
    if (!parsed.success) throw new InvalidRequestError(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    res.status(201).json(await rollout.start(parsed.data));
  });
  r.post('/v1/rollout/promote', async (_req, res) => {
    res.json(await rollout.end('promote', 'promoted by command'));
  });
  r.post('/v1/rollout/rollback', async (_req, res) => {
    res.json(await rollout.end('rollback', 'rolled back by command'));
  });
  return r;
}
