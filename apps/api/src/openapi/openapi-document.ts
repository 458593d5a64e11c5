import { BatchView, ErrorBody, JobCreated, JobView, RolloutState, VideoView, WebhookEvent } from '@spotter/shared';
import { batchPaths } from './batch-paths.js';
import { schema } from './common.js';
import { jobPaths } from './job-paths.js';
import { modelPaths } from './model-paths.js';
import { monitoringPaths } from './monitoring-paths.js';
import { oipPaths } from './oip-paths.js';
import { systemPaths } from './system-paths.js';
import { videoPaths } from './video-paths.js';

/** The OpenAPI 3.1 document, generated from the same zod schemas the code validates with; one module of paths per area. */
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
        Batch: schema(BatchView),
        Error: schema(ErrorBody),
        WebhookEvent: schema(WebhookEvent),
        RolloutState: schema(RolloutState),
        Video: schema(VideoView),
      },
    },
    security: [{ apiKey: [] }],
    paths: { ...jobPaths, ...batchPaths, ...modelPaths, ...monitoringPaths, ...systemPaths, ...oipPaths, ...videoPaths },
  };
}
