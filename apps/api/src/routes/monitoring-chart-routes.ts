import { Router } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '@spotter/shared';
import { requireAdmin } from '../middleware/auth.js';
import type { MonitoringService } from '../services/monitoring-service.js';

const datetime = z.iso.datetime({ offset: true });
const WindowQuery = z.object({ from: datetime.optional(), to: datetime.optional(), model: z.string().optional() }).strict();
const HistoryQuery = WindowQuery.extend({ steps: z.coerce.number().int().min(2).max(120).default(24) }).strict();

/** `to` defaults to now and `from` to an hour before it, as for GET /v1/monitoring/drift. */
function window(q: { from?: string | undefined; to?: string | undefined }) {
  const to = q.to ? new Date(q.to) : new Date();
  return { from: q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000), to };
}

/** What the console's charts draw, for admins: one metric's histograms, and its drift score over time. */
export function monitoringChartRoutes(monitoring: MonitoringService): Router {
  const r = Router();
  r.get('/v1/monitoring/metrics/:name/histogram', requireAdmin, async (req, res) => {
    const q = parseOrThrow(WindowQuery, req.query, 'query');
    const { from, to } = window(q);
    res.json(await monitoring.histogram(String(req.params.name), from, to, q.model));
  });
  r.get('/v1/monitoring/metrics/:name/history', requireAdmin, async (req, res) => {
    const q = parseOrThrow(HistoryQuery, req.query, 'query');
    const { from, to } = window(q);
    res.json(await monitoring.history(String(req.params.name), from, to, q.steps, q.model));
  });
  return r;
}
