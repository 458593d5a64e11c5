import { errorResponse, windowParams } from './common.js';

const metricParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'A metric of the drift report, e.g. brightness' };

/** Model monitoring: references, drift, labelling candidates, alarms, metric histograms and history. */
export const monitoringPaths = {
  '/v1/monitoring/reference': {
    post: {
      summary: 'Freeze the profiles of jobs finished in [from, to) as the active reference',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, model: { type: 'string' } } } } },
      },
      responses: { 201: { description: '{id, count, created_at}' }, 400: errorResponse('Bad range'), 409: errorResponse('No jobs in the range') },
    },
  },
  '/v1/monitoring/drift': {
    get: {
      summary:
        'Drift of a window (default: the last hour) against the active reference, metric by metric; performance against `baseline` (reference_labels, evaluation_report, or null: insufficient_data); Page-Hinkley over the window with fired_at. `slice` cuts it to the boxes of a class group or size',
      parameters: [
        ...windowParams,
        { name: 'slice', in: 'query', required: false, schema: { type: 'string' }, description: 'rare, common, small, medium, large, or classes:<id>,<id>...' },
      ],
      responses: {
        200: { description: '{reference, window, status, dataset_drift, baseline, baseline_metrics, slice?, metrics: [{name, kind, test, score, p_value, threshold, status, fired_at?, warmup?}]}' },
        400: errorResponse('Bad range or unknown slice'),
      },
    },
  },
  '/v1/monitoring/labeling': {
    get: {
      summary:
        'Up to `budget` served jobs of the window (default: the last 24 hours) most worth labelling, ordered by reason (shadow_disagreement, drifted_input, rare_class, low_confidence) then score; each job once, only jobs not yet labelled whose image is still held',
      parameters: [{ name: 'budget', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } }, ...windowParams],
      responses: { 200: { description: '{model, window, budget, reference, drifted_metrics, rare_classes, items: [{id, reason, score, detail, also, owner, finished_at, image, links}]}' }, 400: errorResponse('Bad range or budget') },
    },
  },
  '/v1/monitoring/alarms': {
    get: { summary: 'Open drift alarms and the history of openings and clearings', responses: { 200: { description: '{open, history}' } } },
  },
  '/v1/monitoring/metrics/{name}/histogram': {
    get: {
      summary: 'One binned metric (admin): its counts per bin in the active reference and in the window (default: the last hour)',
      parameters: [metricParam, ...windowParams],
      responses: {
        200: { description: '{metric, kind, type, bins (labels), edges | categories, reference: {id, images, counts} | null, window: {from, to, images, counts}}' },
        400: errorResponse('Unknown or unbinned metric, bad range'),
      },
    },
  },
  '/v1/monitoring/metrics/{name}/history': {
    get: {
      summary: "A metric's drift score (admin) in `steps` consecutive sub-windows of the window, oldest first, with its thresholds",
      parameters: [metricParam, ...windowParams, { name: 'steps', in: 'query', required: false, schema: { type: 'integer', minimum: 2, maximum: 120, default: 24 } }],
      responses: { 200: { description: '{metric, reference, points: [{from, to, count, score, p_value, status, threshold}]}' }, 400: errorResponse('Unknown metric, bad range') },
    },
  },
};
