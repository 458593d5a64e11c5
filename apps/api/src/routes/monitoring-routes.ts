import { Router } from 'express';
import { z } from 'zod';
import { FeedbackBody, parseOrThrow } from '@spotter/shared';
import { principalOf, requireAdmin } from '../middleware/auth.js';
import type { MonitoringService } from '../services/monitoring-service.js';

const ReferenceBody = z.object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), model: z.string().optional() }).strict();
const DriftQuery = z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional(), model: z.string().optional(), slice: z.string().max(400).optional() });
const LabelingQuery = z.object({
  budget: z.coerce.number().int().min(1).max(1000).default(20),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  model: z.string().optional(),
});

/** Feedback on one's own jobs; references, drift, alarms and what to label next (all tenants' traffic) for admins. */
export function monitoringRoutes(monitoring: MonitoringService): Router {
  const r = Router();
  r.post('/v1/jobs/:id/feedback', async (req, res) => {
    const body = parseOrThrow(FeedbackBody, req.body);
    res.locals.jobId = req.params.id;
    res.status(202).json(await monitoring.feedback(principalOf(res).owner, req.params.id, body));
  });
  r.post('/v1/monitoring/reference', requireAdmin, async (req, res) => {
    const body = parseOrThrow(ReferenceBody, req.body);
    res.status(201).json(await monitoring.createReference(new Date(body.from), new Date(body.to), body.model));
  });
  r.get('/v1/monitoring/drift', requireAdmin, async (req, res) => {
    const q = parseOrThrow(DriftQuery, req.query, 'query');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000);
    res.json(await monitoring.drift(from, to, q.model, q.slice));
  });
  r.get('/v1/monitoring/labeling', requireAdmin, async (req, res) => {
    const q = parseOrThrow(LabelingQuery, req.query, 'query');
    // Labels come in slowly: by default the last day of served jobs.
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 24 * 3600_000);
    res.json(await monitoring.labeling(q.budget, from, to, q.model));
  });
  r.get('/v1/monitoring/alarms', requireAdmin, async (_req, res) => {
    res.json(await monitoring.alarms());
  });
  return r;
}
