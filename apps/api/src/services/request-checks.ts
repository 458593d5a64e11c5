import type { Config } from '@spotter/config';
import { ValidationError } from '@spotter/shared';
import { assertWebhookUrlAllowed } from '@spotter/webhooks';

/** A webhook URL Spotter may call: webhooks are enabled, and the destination passes the SSRF guard. */
export async function checkWebhookUrl(url: string | undefined, webhooks: Config['webhooks']): Promise<void> {
  if (!url) return;
  if (!webhooks.secret) throw new ValidationError('webhooks are disabled: the operator has not set SPOTTER_WEBHOOK_SECRET', 'WEBHOOKS_DISABLED');
  await assertWebhookUrlAllowed(url, webhooks.allowHosts);
}

/** An Idempotency-Key header: 1 to 255 printable ASCII characters. */
export function checkIdempotencyKey(key: string | undefined): void {
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ValidationError('Idempotency-Key must be 1 to 255 printable ASCII characters', 'INVALID_IDEMPOTENCY_KEY');
  }
}
