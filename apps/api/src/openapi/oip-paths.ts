import { DETECTION_OUTPUTS, IMAGE_INPUT, RAW_OUTPUT } from '../oip/oip-service.js';

// The Open Inference Protocol's routes, summarised: their bodies are the protocol's own
// (open_inference_rest.yaml, the OIP REST specification), which Spotter's tests validate against.
const oipError = (description: string) => ({
  description,
  headers: { 'Spotter-Error-Code': { schema: { type: 'string' }, description: "Spotter's error code (the body is the protocol's)" } },
  content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } } },
});
const oipJson = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string' }, description: "The registry's version of the model" };
const outputs = [...DETECTION_OUTPUTS.map((o) => `${o.name} ${o.datatype} [${o.shape.join(', ')}]`), `${RAW_OUTPUT} (when named)`].join('; ');

const metadata = { summary: 'Model metadata: its inputs (IMAGE BYTES, or the FP32 tensor its file declares) and outputs', responses: { 200: oipJson('$metadata_model_response'), 404: oipError('Unknown model or version') } };
const ready = { summary: 'Model readiness: its file is usable', responses: { 200: oipJson('{name, ready: true}'), 404: oipError('Unknown model or version'), 503: oipError('The model cannot be served') } };
const infer = {
  summary: `Inference through the job queue, waited for like /v1/predict. Input ${IMAGE_INPUT} (BYTES, one encoded picture) or the model's FP32 input; outputs ${outputs}`,
  parameters: [{ name: 'Inference-Header-Content-Length', in: 'header', required: false, schema: { type: 'integer' }, description: 'Binary tensor data extension: the JSON header length; binary tensors follow it' }],
  requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
  responses: {
    200: { description: '$inference_response (binary outputs after the JSON header, its length in Inference-Header-Content-Length)', content: { 'application/json': { schema: { type: 'object' } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    400: oipError('A malformed request, an unknown input, output or parameter, a tensor of another shape, or an unsupported extension'),
    401: oipError('Missing or invalid API key'),
    404: oipError('Unknown model or version'),
    413: oipError('Body over SPOTTER_MAX_UPLOAD_BYTES, or too many pixels'),
    415: oipError('BYTES that are no picture'),
    422: oipError('A picture that cannot be decoded'),
    429: oipError('Backlog full or rate limited; retry after Retry-After seconds'),
    503: oipError('Redis or storage unavailable; retry after Retry-After seconds'),
    504: oipError('Not finished in time; Location names the job to poll'),
  },
};
const model = (op: object, versioned: boolean) => ({ ...op, parameters: [nameParam, ...(versioned ? [versionParam] : []), ...((op as { parameters?: object[] }).parameters ?? [])] });

/** The Open Inference Protocol v2 (KServe v2, Triton): health, metadata, readiness, inference. */
export const oipPaths = {
  '/v2': { get: { summary: 'Server metadata: name, version, extensions (binary_tensor_data)', responses: { 200: oipJson('$metadata_server_response'), 401: oipError('Missing or invalid API key') } } },
  '/v2/health/live': { get: { summary: 'The process is up', security: [], responses: { 200: oipJson('{live: true}') } } },
  '/v2/health/ready': { get: { summary: "Redis and storage reachable, the default model's file usable", security: [], responses: { 200: oipJson('{ready: true}'), 503: oipError('Not ready') } } },
  '/v2/models/{name}': { get: model(metadata, false) },
  '/v2/models/{name}/versions/{version}': { get: model(metadata, true) },
  '/v2/models/{name}/ready': { get: model(ready, false) },
  '/v2/models/{name}/versions/{version}/ready': { get: model(ready, true) },
  '/v2/models/{name}/infer': { post: model(infer, false) },
  '/v2/models/{name}/versions/{version}/infer': { post: model(infer, true) },
};
