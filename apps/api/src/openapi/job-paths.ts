import { CreateJobFields, FeedbackBody, JobStatus } from '@spotter/shared';
import { errorResponse, idParam, schema } from './common.js';

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

const jobJson = { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } };

/** Jobs: submit, read, wait, the annotated picture, late labels. */
export const jobPaths = {
  '/v1/jobs': {
    get: {
      summary: "The caller's jobs, newest first; pass next_cursor back as cursor for the next page",
      parameters: [
        { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: JobStatus.options } },
        { name: 'batch', in: 'query', required: false, schema: { type: 'string', maxLength: 64 } },
        { name: 'cursor', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d+$' } },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
      ],
      responses: {
        200: {
          description: 'A page of jobs',
          content: { 'application/json': { schema: { type: 'object', required: ['jobs', 'next_cursor'], properties: { jobs: { type: 'array', items: { type: 'object' } }, next_cursor: { type: ['string', 'null'] } } } } },
        },
        400: errorResponse('Invalid query'),
        401: errorResponse('Bad key'),
      },
    },
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
    delete: {
      summary: 'Cancel a job not final yet (202 with the job), or erase a final one (204)',
      parameters: [idParam],
      responses: { 202: { description: 'Cancelled', content: jobJson }, 204: { description: 'Erased' }, 401: errorResponse('Bad key'), 404: errorResponse('Unknown job') },
    },
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
};
