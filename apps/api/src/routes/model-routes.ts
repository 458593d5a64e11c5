import { Router } from 'express';
import type { ModelRegistry, Rollout } from '@spotter/models';
import { NotFoundError, parseOrThrow, PromoteRequest, RolloutRequest, type ModelManifest, type RegisteredModel } from '@spotter/shared';
import { principalOf, requireAdmin } from '../middleware/auth.js';
import { modelUpload } from '../uploads/model-upload.js';

/**
 * GET /v1/models for every key; registering and removing models (shared by every process
 * through Spotter's storage) and the rollout (state, counters, start, promote, roll back) for
 * admins.
 */
export function modelRoutes(registry: ModelRegistry, rollout: Rollout, maxModelBytes: number): Router {
  const r = Router();
  // Reports were read and checked when each model was registered; a request reads no file.
  const describe = (m: RegisteredModel) => ({
    name: m.name,
    version: m.version,
    format: m.format,
    file: m.file,
    source: m.source,
    sha256: m.digest,
    bytes: m.bytes,
    available: m.problem === null,
    problem: m.problem,
    score_threshold: m.score_threshold,
    nms_iou: m.nms_iou,
    labels: m.labels === 'coco' ? 80 : m.labels === 'coco91' ? 91 : m.labels.length,
    eval: registry.evalReport(m.name)?.metrics ?? null,
  });

  r.get('/v1/models', async (_req, res) => {
    const state = await rollout.state();
    res.json({ models: registry.all().map(describe).map((m) => ({ ...m, role: m.name === state.live ? 'live' : m.name === state.candidate ? state.mode : null })) });
  });
  r.post('/v1/models', requireAdmin, modelUpload(maxModelBytes), async (req, res) => {
    const model = await registry.add(req.body.manifest as ModelManifest, req.file!.buffer, principalOf(res).owner);
    res.status(201).json(describe(model));
  });
  r.delete('/v1/models/:name', requireAdmin, async (req, res) => {
    const name = String(req.params.name);
    if (!(await registry.find(name).then(() => true, () => false))) throw new NotFoundError('MODEL_NOT_FOUND', `no model named ${JSON.stringify(name)}`);
    const state = await rollout.state();
    await registry.remove(name, [state.live, ...(state.candidate ? [state.candidate] : [])]);
    res.status(204).end();
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
