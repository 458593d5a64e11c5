import http from 'node:http';
import https from 'node:https';
import { WebhookDeliveryError } from '@spotter/shared';
import { assertWebhookUrlAllowed, isAllowedHost, publicOnlyLookup } from './ssrf-guard.js';
import { signWebhook, standardWebhookHeaders } from './webhook-signature.js';

export interface DeliveryPolicy {
  secret: string | undefined;
  allowHosts: readonly string[];
  timeoutMs: number;
}

function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, guarded: boolean): Promise<number> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        timeout: timeoutMs,
        ...(guarded ? { lookup: publicOnlyLookup } : {}),
      },
      (res) => {
        res.resume(); // the receiver's body is of no interest; drain it
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One signed POST of `body` to `rawUrl`. The destination is checked again at delivery (DNS
 * may have changed), redirects are not followed (a redirect could point anywhere), and any
 * non-2xx answer is a failure. Throws WebhookDeliveryError (retry) or a ValidationError
 * (a destination that is now forbidden stays forbidden).
 */
export async function sendSignedWebhook(policy: DeliveryPolicy, rawUrl: string, body: string, eventId: string): Promise<number> {
  if (!policy.secret) throw new WebhookDeliveryError('SPOTTER_WEBHOOK_SECRET is not set on this worker', null);
  const url = await assertWebhookUrlAllowed(rawUrl, policy.allowHosts);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Spotter-Webhook/1',
    'spotter-event-id': eventId,
    'spotter-signature': signWebhook(policy.secret, body),
    ...standardWebhookHeaders(policy.secret, eventId, body),
  };
  const status = await post(url, body, headers, policy.timeoutMs, !isAllowedHost(url, policy.allowHosts)).catch((err: Error) => {
    throw new WebhookDeliveryError(err.message, null);
  });
  if (status < 200 || status >= 300) throw new WebhookDeliveryError(`receiver answered ${status}`, status);
  return status;
}
