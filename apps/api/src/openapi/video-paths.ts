import { CreateVideoFields, DetectionsQuery, VideoCounts, VideoEventItem, VideoFrameLine, VideoTrack } from '@spotter/shared';
import { errorResponse, idParam, queryParams, schema } from './common.js';

const videoJson = { 'application/json': { schema: { $ref: '#/components/schemas/Video' } } };
const notReady = { 404: errorResponse('No such video for this key'), 409: errorResponse('The video has not succeeded (VIDEO_NOT_READY)') };

const result = (summary: string, type: string, body: object) => ({
  get: { summary, parameters: [idParam], responses: { 200: { description: summary, content: { [type]: { schema: body } } }, ...notReady } },
});

/** Videos: submit a clip, follow it, read its tracks, counts, events and annotated MP4. */
export const videoPaths = {
  '/v1/videos': {
    post: {
      summary: 'Submit a clip for detection and tracking',
      parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'The same key returns the same video for 24 h' }],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['video'],
              properties: {
                video: { type: 'string', format: 'binary', description: 'MP4/MOV, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg or ASF; judged by content' },
                ...(schema(CreateVideoFields, 'input').properties as object),
              },
            },
          },
          'application/json': { schema: { ...schema(CreateVideoFields, 'input'), description: 'With source.key: a clip already in storage below SPOTTER_BATCH_PREFIX_ROOT' } },
        },
      },
      responses: {
        202: { description: 'Accepted: its segments are queued', headers: { Location: { schema: { type: 'string' } } }, content: videoJson },
        400: errorResponse('Malformed request or invalid field'),
        401: errorResponse('Missing or invalid API key'),
        413: errorResponse('Clip over SPOTTER_VIDEO_MAX_BYTES, _MAX_DURATION_S or _MAX_PIXELS'),
        415: errorResponse('Not a video container Spotter reads (judged by content)'),
        422: errorResponse('A clip that cannot be read (cut short, corrupt)'),
      },
    },
  },
  '/v1/videos/{id}': {
    get: { summary: 'Status, progress, webhook deliveries and, once final, summary or error', parameters: [idParam], responses: { 200: { description: 'The video', content: videoJson }, 404: errorResponse('No such video for this key') } },
    delete: {
      summary: 'Cancel a video that is not final; erase a final one (clip, record, segments, results)',
      parameters: [idParam],
      responses: { 202: { description: 'Cancelled: the video, now `cancelled`', content: videoJson }, 204: { description: 'Erased' }, 404: errorResponse('No such video for this key') },
    },
  },
  '/v1/videos/{id}/detections': {
    get: {
      summary: 'Sampled frames with their tracked detections, one JSON object a line; a page with `limit`',
      parameters: [idParam, ...queryParams(DetectionsQuery)],
      responses: {
        200: { description: 'The frames of the page', headers: { Link: { schema: { type: 'string' }, description: '`<...>; rel="next"` while frames remain' } }, content: { 'application/x-ndjson': { schema: schema(VideoFrameLine) } } },
        400: errorResponse('A bad from_frame or limit'),
        ...notReady,
      },
    },
  },
  '/v1/videos/{id}/tracks': result('The tracks of the whole clip', 'application/json', { type: 'array', items: schema(VideoTrack) }),
  '/v1/videos/{id}/counts': result('Tracked objects per class and per zone in each sampled frame, totals, line crossings', 'application/json', schema(VideoCounts)),
  '/v1/videos/{id}/events': result('Line crossings and zone dwells in time order', 'application/json', { type: 'array', items: schema(VideoEventItem) }),
  '/v1/videos/{id}/annotated': result('The clip at the sampling rate with boxes, track ids, regions and counts drawn', 'video/mp4', { type: 'string', format: 'binary' }),
};
