import { errorResponse } from './common.js';

const reportParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** Evaluation reports, the console, health and readiness. */
export const systemPaths = {
  '/v1/reports': {
    get: {
      summary: 'Evaluation reports stored by `spotter eval --store`, newest first',
      responses: { 200: { description: '{reports: [{id, created_at, model, dataset, metrics: {AP, AP50, AR100}, links: {self, html}}]}' } },
    },
  },
  '/v1/reports/{id}': {
    get: {
      summary: 'A stored evaluation report (report.json)',
      parameters: [reportParam],
      responses: { 200: { description: 'The report as spotter eval wrote it' }, 404: errorResponse('No such report') },
    },
  },
  '/reports/{id}': {
    get: {
      summary: "A stored evaluation report's page: self-contained HTML served with a CSP that allows no script; the key as Bearer or Basic password",
      parameters: [reportParam],
      responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } }, 401: errorResponse('Missing or invalid API key'), 404: errorResponse('No such report') },
    },
  },
  '/console/': {
    get: {
      summary: 'The console (single-page app; its API calls use the key)',
      security: [],
      responses: { 200: { description: 'index.html', content: { 'text/html': { schema: { type: 'string' } } } }, 503: { description: 'The console is not built' } },
    },
  },
  '/healthz': { get: { summary: 'Process is up', security: [], responses: { 200: { description: 'OK' } } } },
  '/readyz': { get: { summary: 'Redis and storage reachable', security: [], responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } } } },
};
