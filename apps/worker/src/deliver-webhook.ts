import http from 'node:http';
import https from 'node:https';
import {
  assertWebhookUrlAllowed,
  isAllowedHost,
  loadJobRecord,
  publicOnlyLookup,
  signWebhook,
  toJobView,
  type AlertJobData,
  type Config,
  type ObjectStorage,
  type WebhookJobData,
} from '@spotter/shared';

export interface WebhookDeps {
  config: Config;
  storage: ObjectStorage;
}

/** A delivery attempt that failed; BullMQ retries it with backoff. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
  constructor(message: string, readonly statusCode: number | null) {
    super(message);
  }
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
 * One signed POST. The destination is checked again at delivery (DNS may have changed),
 * redirects are not followed (a redirect could point anywhere), any non-2xx is a failure.
 */
async function postSigned(config: Config, rawUrl: string, body: string, eventId: string): Promise<number> {
  const secret = config.webhooks.secret;
  if (!secret) throw new WebhookDeliveryError('SPOTTER_WEBHOOK_SECRET is not set on this worker', null);
  const url = await assertWebhookUrlAllowed(rawUrl, config.webhooks.allowHosts);
  const status = await post(
    url,
    body,
    {
      'content-type': 'application/json',
      'user-agent': 'Spotter-Webhook/1',
      'spotter-event-id': eventId,
      'spotter-signature': signWebhook(secret, body),
    },
    config.webhooks.timeoutMs,
    !isAllowedHost(url, config.webhooks.allowHosts),
  ).catch((err: Error) => {
    throw new WebhookDeliveryError(err.message, null);
  });
  if (status < 200 || status >= 300) throw new WebhookDeliveryError(`receiver answered ${status}`, status);
  return status;
}

/** Sends one delivery of a job's final state. */
export async function deliverWebhook(deps: WebhookDeps, data: WebhookJobData): Promise<number> {
  const record = await loadJobRecord(deps.storage, data.job_id);
  if (!record?.webhook_url) throw new WebhookDeliveryError(`job ${data.job_id} has no record or no webhook`, null);
  const body = JSON.stringify({ event: data.event, job: toJobView(record.job, deps.config.http.publicUrl, null) });
  return postSigned(deps.config, record.webhook_url, body, `${data.job_id}.${data.event}`);
}

/** Sends one delivery of a monitoring alarm (SPOTTER_ALERT_WEBHOOK_URL), signed the same way. */
export function deliverAlert(deps: WebhookDeps, data: AlertJobData): Promise<number> {
  return postSigned(deps.config, data.url, JSON.stringify(data.body), data.event_id);
}
