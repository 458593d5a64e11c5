import { Router } from 'express';
import { z } from 'zod';
import { FeedbackBody, InvalidRequestError } from '@spotter/shared';
import type { MonitoringService } from '../monitoring-service.js';

const ReferenceBody = z.object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), model: z.string().optional() }).strict();
const DriftQuery = z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional(), model: z.string().optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new InvalidRequestError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

/** /v1/monitoring: references and drift reports. */
export function monitoringRoutes(monitoring: MonitoringService): Router {
  const r = Router();
  r.post('/v1/monitoring/reference', async (req, res) => {
    const body = parse(ReferenceBody, req.body);
    res.status(201).json(await monitoring.createReference(new Date(body.from), new Date(body.to), body.model));
  });
  r.get('/v1/monitoring/drift', async (req, res) => {
    const q = parse(DriftQuery, req.query);
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000);
    res.json(await monitoring.drift(from, to, q.model));
  });
  r.post('/v1/jobs/:id/feedback', async (req, res) => {
    const body = parse(FeedbackBody, req.body);
    res.locals.jobId = req.params.id;
    res.status(202).json(await monitoring.feedback(res.locals.owner as string, req.params.id, body));
  });
  r.get('/v1/monitoring/alarms', async (_req, res) => {
    res.json(await monitoring.alarms());
  });
  return r;
}
