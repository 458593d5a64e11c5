import { Webhook } from 'standardwebhooks';
import type { components } from './api-types.js';

type Batch = components['schemas']['Batch'];
/** What Spotter posts: a job's final event, or a batch's. */
export type SpotterWebhookEvent = components['schemas']['WebhookEvent'] | { event: 'batch.succeeded' | 'batch.failed' | 'batch.cancelled'; batch: Batch };

/**
 * Verifies a delivery with the Standard Webhooks library (headers webhook-id,
 * webhook-timestamp, webhook-signature; five minutes' tolerance) and returns its event.
 * `secret` is SPOTTER_WEBHOOK_SECRET (`whsec_<base64>`); `body` the raw body, unparsed.
 * Throws on a bad signature, a stale timestamp or a missing header.
 */
export function verifyWebhook(secret: string, body: string, headers: Headers | Record<string, string | string[] | undefined>): SpotterWebhookEvent {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : [headers[name]].flat()[0]) ?? '';
  return new Webhook(secret).verify(body, { 'webhook-id': get('webhook-id'), 'webhook-timestamp': get('webhook-timestamp'), 'webhook-signature': get('webhook-signature') }) as SpotterWebhookEvent;
}
