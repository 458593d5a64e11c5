import { z } from 'zod';
import { CreateJobFields, ErrorBody, FeedbackBody, JobCreated, JobView, PromoteRequest, RolloutRequest, RolloutState, WebhookEvent } from '@spotter/shared';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const uploadBody = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['image'],
        properties: {
          image: { type: 'string', format: 'binary', description: 'JPEG, PNG, WebP, GIF (first frame), AVIF, HEIF or TIFF; judged by content' },
          ...(schema(CreateJobFields, 'input').properties as object),
        },
      },
    },
  },
};

const uploadErrors = {
  400: errorResponse('Malformed request or invalid field'),
  401: errorResponse('Missing or invalid API key'),
  413: errorResponse('Upload or pixel count over the limit'),
  415: errorResponse('Not an image (judged by content)'),
  422: errorResponse('An image that cannot be decoded'),
  429: errorResponse('Backlog full; retry after Retry-After seconds'),
  503: errorResponse('Redis or storage unavailable; retry after Retry-After seconds'),
};

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const metricParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'A metric of the drift report, e.g. brightness' };
const windowParams = ['from', 'to'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string', format: 'date-time' } }));
const reportParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const jobJson = { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } };

/** The OpenAPI 3.1 document, generated from the same zod schemas the code validates with. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Spotter',
      version,
      description:
        'Object detection as a service: upload an image, get boxes back by polling, waiting, or a signed webhook.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'One of SPOTTER_API_KEYS' } },
      schemas: {
        Job: schema(JobView),
        JobCreated: schema(JobCreated),
        Error: schema(ErrorBody),
        WebhookEvent: schema(WebhookEvent),
        RolloutState: schema(RolloutState),
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/jobs': {
        post: {
          summary: 'Submit an image for detection',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'The same key returns the same job for 24 h' }],
          requestBody: uploadBody,
          responses: {
            202: {
              description: 'Queued',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/JobCreated' } } },
            },
            ...uploadErrors,
          },
          callbacks: {
            jobFinished: {
              '{$request.body#/webhook_url}': {
                post: {
                  summary: 'Sent when the job is final; header Spotter-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>',
                  requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookEvent' } } } },
                  responses: { 200: { description: 'Any 2xx acknowledges the event' } },
                },
              },
            },
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'Read a job',
          parameters: [idParam, { name: 'wait', in: 'query', required: false, schema: { type: 'number', minimum: 0, maximum: 30 }, description: 'Hold the answer up to this many seconds until the job is final' }],
          responses: { 200: { description: 'The job', content: jobJson }, 400: errorResponse('Invalid wait'), 401: errorResponse('Bad key'), 404: errorResponse('Unknown job') },
        },
      },
      '/v1/jobs/{id}/annotated': {
        get: {
          summary: 'The image with labelled boxes drawn',
          parameters: [idParam],
          responses: {
            200: { description: 'JPEG', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } },
            404: errorResponse('Unknown job'),
            409: errorResponse('The job has not succeeded'),
          },
        },
      },
      '/v1/predict': {
        post: {
          summary: 'Submit and wait: the job JSON, or the annotated JPEG with Accept: image/jpeg',
          requestBody: uploadBody,
          responses: {
            200: { description: 'The final job', content: { ...jobJson, 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } },
            ...uploadErrors,
            504: errorResponse('Not finished in time; error.job_id and Location name the job to poll'),
          },
        },
      },
      '/v1/models': {
        get: {
          summary: 'Registered models: format, thresholds, version, role in the rollout (live, shadow, canary), evaluation metrics',
          responses: { 200: { description: 'The registry', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/v1/models/{name}': {
        get: {
          summary: "A model's manifest as the registry read it (labels, thresholds, input size, version), with the link to its file",
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'The manifest' }, 404: errorResponse('Unknown model') },
        },
      },
      '/v1/models/{name}/file': {
        get: {
          summary: 'The registered .onnx file of a model (what the console runs in the browser); strong ETag from its sha256, 304 on If-None-Match',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }, { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
          responses: {
            200: { description: 'The model file', headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } }, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
            304: { description: 'Not modified' },
            404: errorResponse('Unknown model, or its file is missing or does not match its manifest'),
          },
        },
      },
      '/v1/rollout': {
        get: {
          summary:
            'Rollout state with its guards and counters (shadow agreement, canary failure ratios), `verdicts` (each guard: status pass | fail | insufficient_data | not_applicable | not_measured, value, threshold, samples, reason), `gate` (the promotion gate table) and the history',
          responses: { 200: { description: 'State', content: { 'application/json': { schema: { $ref: '#/components/schemas/RolloutState' } } } } },
        },
        post: {
          summary:
            'Start a shadow (every Nth job also runs on the candidate) or a canary (a share of jobs served by it); `guards` overrides the defaults (min_jobs, max_failure_gap, min_agreement, max_class_flip_rate, max_score_shift, max_drifted_outputs). A failing guard stops a shadow or rolls a canary back, recorded in the history and sent to SPOTTER_ALERT_WEBHOOK_URL (rollout.stopped, rollout.rolled_back)',
          requestBody: { required: true, content: { 'application/json': { schema: schema(RolloutRequest, 'input') } } },
          responses: {
            201: { description: 'Started', content: { 'application/json': { schema: { $ref: '#/components/schemas/RolloutState' } } } },
            400: errorResponse('Unknown candidate or bad body'),
            409: errorResponse('A rollout is already in progress, or the candidate is live'),
          },
        },
      },
      '/v1/rollout/promote': {
        post: {
          summary:
            "Make the candidate the live model, if the promotion gate lets it: its evaluation report against the live model's on overall AP, rare classes, small objects and the manifests' important tags. `force` (body or ?force=true) overrides a refusal and is recorded with who forced it",
          parameters: [{ name: 'force', in: 'query', required: false, schema: { type: 'boolean' } }],
          requestBody: { required: false, content: { 'application/json': { schema: schema(PromoteRequest, 'input') } } },
          responses: {
            200: { description: 'Promoted: the new state and `gate` {passed, tolerance, rows: [{slice, live, candidate, diff, status}], reasons, warnings}' },
            409: {
              description: 'No rollout in progress, or PROMOTION_REFUSED with error.gate (the same table)',
              content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, gate: { type: 'object' } } } } } } },
            },
          },
        },
      },
      '/v1/rollout/rollback': {
        post: { summary: 'End the rollout, keeping the live model', responses: { 200: { description: 'Rolled back' }, 409: errorResponse('No rollout in progress') } },
      },
      '/v1/jobs/{id}/feedback': {
        post: {
          summary: 'Late labels for a succeeded job: its true boxes, scored against the answer (concept drift)',
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: schema(FeedbackBody, 'input') } } },
          responses: {
            202: { description: 'Recorded: {id, tp, fp, fn, precision, recall, f1}' },
            400: errorResponse('Bad body'),
            404: errorResponse('Unknown job'),
            409: errorResponse('The job has not succeeded, or feedback was already recorded'),
          },
        },
      },
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
    },
  };
}
