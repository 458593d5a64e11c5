import { Router } from 'express';
import type { ModelRegistry, Rollout } from '@spotter/models';
import { parseOrThrow, PromoteRequest, RolloutRequest } from '@spotter/shared';
import { principalOf, requireAdmin } from '../middleware/auth.js';

/** GET /v1/models for every key; the rollout (state, counters, start, promote, roll back) for admins. */
export function modelRoutes(registry: ModelRegistry, rollout: Rollout): Router {
  const r = Router();
  // The registry is fixed for the life of the process; its reports were read and checked at load.
  const described = registry.all().map((m) => ({
      name: m.name,
      version: m.version,
      format: m.format,
      file: m.file,
      available: m.problem === null,
      problem: m.problem,
      score_threshold: m.score_threshold,
      nms_iou: m.nms_iou,
      labels: m.labels === 'coco' ? 80 : m.labels.length,
    eval: registry.evalReport(m.name)?.metrics ?? null,
  }));

  r.get('/v1/models', async (_req, res) => {
    const state = await rollout.state();
    const models = described.map((m) => ({ ...m, role: m.name === state.live ? 'live' : m.name === state.candidate ? state.mode : null }));
    res.json({ models });
  });
  r.get('/v1/rollout', requireAdmin, async (_req, res) => {
    res.json(await rollout.report());
  });
  r.post('/v1/rollout', requireAdmin, async (req, res) => {
    res.status(201).json(await rollout.start(parseOrThrow(RolloutRequest, req.body), principalOf(res).owner));
  });
  r.post('/v1/rollout/promote', requireAdmin, async (req, res) => {
    // `force` as a body field or as ?force=true.
    const body = parseOrThrow(PromoteRequest, { ...(req.body ?? {}), ...(req.query.force === 'true' ? { force: true } : {}) });
    const { state, gate } = await rollout.promote(principalOf(res).owner, { force: body.force });
    res.json({ ...state, gate });
  });
  r.post('/v1/rollout/rollback', requireAdmin, async (_req, res) => {
    res.json(await rollout.rollback(principalOf(res).owner));
  });
  return r;
}
