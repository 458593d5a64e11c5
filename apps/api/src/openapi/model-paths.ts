import { ModelManifest, PromoteRequest, RolloutRequest } from '@spotter/shared';
import { errorResponse, schema } from './common.js';

/** The model registry and the rollout (shadow, canary, promotion gate). */
export const modelPaths = {
  '/v1/models': {
    get: {
      summary: 'Registered models: format, thresholds, version, role in the rollout (live, shadow, canary), evaluation metrics',
      responses: { 200: { description: 'The registry', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
    post: {
      summary:
        "Admin: register a model in Spotter's storage, served by every API and worker process within SPOTTER_MODEL_REFRESH_S, no restart. multipart/form-data: `file` (the .onnx, at most SPOTTER_MAX_MODEL_BYTES) and `manifest` (JSON: name, format, labels, preprocess, thresholds; `npm run spotter -- models add` decides them from the file). The file is read and checked against its format before anything is stored",
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: { type: 'object', required: ['file', 'manifest'], properties: { file: { type: 'string', format: 'binary' }, manifest: { ...schema(ModelManifest, 'input'), description: 'the manifest, as a JSON text field' } } },
          },
        },
      },
      responses: {
        201: { description: 'Registered: the model as GET /v1/models lists it (source stored, sha256, bytes)' },
        400: errorResponse('MISSING_FILE, INVALID_MANIFEST, or INVALID_MODEL: not an ONNX file, or outputs its format does not read (the reason names the shapes)'),
        403: errorResponse('Not an admin key'),
        409: errorResponse('The name is taken (by a seed of SPOTTER_MODEL_DIR or a stored model)'),
        413: errorResponse('The file is larger than SPOTTER_MAX_MODEL_BYTES'),
      },
    },
  },
  '/v1/models/{name}': {
    get: {
      summary: "A model's manifest as the registry read it (labels, thresholds, input size, version), with the link to its file",
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: { description: 'The manifest' }, 404: errorResponse('Unknown model') },
    },
    delete: {
      summary: 'Admin: remove a model registered in storage (its file too, when no other model uses it); every process lets it go at its next listing',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 204: { description: 'Removed' }, 403: errorResponse('Not an admin key'), 404: errorResponse('Unknown model'), 409: errorResponse('A seed of SPOTTER_MODEL_DIR (read-only), or in use by the rollout (live or candidate)') },
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
        400: errorResponse('Unknown candidate (UNKNOWN_MODEL), a candidate the registry cannot serve (MODEL_UNAVAILABLE, with its problem), or bad body'),
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
};
