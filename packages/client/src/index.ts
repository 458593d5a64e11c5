export { createSpotterClient, SpotterApiError, SpotterClient, type Batch, type BatchFields, type BatchResult, type ImageInput, type Job, type JobCreated, type JobFields, type SpotterClientOptions } from './spotter-client.js';
export { retryAfterSeconds, retryingFetch, type RetryPolicy } from './retry.js';
export { verifyWebhook, type SpotterWebhookEvent } from './webhook.js';
export type { components, paths } from './api-types.js';
