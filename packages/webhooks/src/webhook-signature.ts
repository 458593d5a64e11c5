import { createHmac, timingSafeEqual } from 'node:crypto';

function mac(secret: string, t: number, body: string) {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** `Spotter-Signature` header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signWebhook(secret: string, body: string, nowS = Math.floor(Date.now() / 1000)): string {
  return `t=${nowS},v1=${mac(secret, nowS, body)}`;
}

/** Verifies a signature header, rejecting timestamps older than `toleranceS` (replays). */
export function verifyWebhook(
  secret: string,
  header: string,
  body: string,
  toleranceS = 300,
  nowS = Math.floor(Date.now() / 1000),
): boolean {
  const parts = new Map(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || !/^[0-9a-f]{64}$/.test(v1)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(mac(secret, t, body), 'hex'));
}

/**
 * The HMAC key Standard Webhooks libraries derive from a secret: for `whsec_<base64>` (the
 * format SPOTTER_WEBHOOK_SECRET is checked against) the decoded bytes, which is what
 * `new Webhook(secret)` of the `standardwebhooks` and `svix` packages uses; any other secret as
 * its UTF-8 bytes (their `{ format: 'raw' }`).
 */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** The Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`). */
export function standardWebhookHeaders(secret: string, id: string, body: string, nowS = Math.floor(Date.now() / 1000)) {
  const signature = createHmac('sha256', standardWebhookKey(secret)).update(`${id}.${nowS}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(nowS), 'webhook-signature': `v1,${signature}` };
}
