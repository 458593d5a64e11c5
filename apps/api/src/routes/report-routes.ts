import { Router } from 'express';
import type { ReportService } from '../services/report-service.js';

/**
 * The report page allows no script at all (it has none): inline styles and SVG, images as
 * data: URIs. `sandbox` also gives it an opaque origin, so it can never act for the API.
 */
export const REPORT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";

/** GET /v1/reports (newest first) and GET /v1/reports/{id}: stored evaluation reports, for any key. */
export function reportRoutes(reports: ReportService): Router {
  const r = Router();
  r.get('/v1/reports', async (_req, res) => {
    const items = await reports.list();
    res.json({ reports: items.map((s) => ({ ...s, links: { self: `/v1/reports/${s.id}`, html: `/reports/${s.id}` } })) });
  });
  r.get('/v1/reports/:id', async (req, res) => {
    res.json(await reports.json(req.params.id));
  });
  return r;
}

/**
 * GET /reports/{id} (mounted at /reports): the report's HTML page. Outside /v1 because a link opens it: the key
 * comes as Bearer or, from a browser's prompt, as Basic credentials (like /admin/queues).
 */
export function reportPages(reports: ReportService): Router {
  const r = Router();
  r.get('/:id', async (req, res) => {
    const html = await reports.html(req.params.id);
    res.set({ 'Content-Security-Policy': REPORT_PAGE_CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, max-age=300' });
    res.type('text/html; charset=utf-8').send(html);
  });
  return r;
}
