import { CreateBatchFields, CreateBatchFromPrefix } from '@spotter/shared';
import { errorResponse, idParam, schema } from './common.js';

const batchJson = { 'application/json': { schema: { $ref: '#/components/schemas/Batch' } } };

/** Batches: create (images, an archive, or an intake prefix), read, results, cancel. */
export const batchPaths = {
  '/v1/batches': {
    post: {
      summary: 'Create a batch: several `images` parts, one `archive` part (zip, tar, tar.gz; streamed), or JSON naming an intake prefix',
      parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'The same key returns the same batch for 24 h' }],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: {
                images: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'One part per image' },
                archive: { type: 'string', format: 'binary', description: 'One zip, tar or tar.gz of images (instead of images parts)' },
                ...(schema(CreateBatchFields, 'input').properties as object),
              },
            },
          },
          'application/json': { schema: schema(CreateBatchFromPrefix, 'input') },
        },
      },
      responses: {
        202: { description: 'Created (or replayed: Idempotent-Replayed: true)', headers: { Location: { schema: { type: 'string' } } }, content: batchJson },
        400: errorResponse('Malformed request or invalid field'),
        401: errorResponse('Missing or invalid API key'),
        413: errorResponse('Upload, archive entries or expansion over the limit'),
        429: errorResponse('Backlog full; retry after Retry-After seconds'),
        503: errorResponse('Redis or storage unavailable; retry after Retry-After seconds'),
      },
    },
  },
  '/v1/batches/{id}': {
    get: {
      summary: 'A batch: status, counts, progress, timings, skipped entries, links',
      parameters: [idParam],
      responses: { 200: { description: 'The batch', content: batchJson }, 401: errorResponse('Bad key'), 404: errorResponse('Unknown batch') },
    },
    delete: {
      summary: 'Cancel what has not started',
      parameters: [idParam],
      responses: { 200: { description: 'The batch', content: batchJson }, 401: errorResponse('Bad key'), 404: errorResponse('Unknown batch') },
    },
  },
  '/v1/batches/{id}/results': {
    get: {
      summary: 'The results, streamed: JSON Lines (one line per image, in upload order) or COCO results (`format=coco`)',
      parameters: [idParam, { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['jsonl', 'coco'], default: 'jsonl' } }],
      responses: {
        200: {
          description: 'JSON Lines of {item, source, job_id, status, detections, error}, or a COCO results array',
          content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'array', items: { type: 'object' } } } },
        },
        400: errorResponse('Unknown format'),
        404: errorResponse('Unknown batch'),
      },
    },
  },
};
