import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

describe('webhook signature', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"event":"job.succeeded","job":{"id":"x"}}';

  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies its own signature and rejects tampering, other secrets and stale timestamps', () => {
    const header = signWebhook(secret, body, 1700000000);
    expect(verifyWebhook(secret, header, body, 300, 1700000100)).toBe(true);
    expect(verifyWebhook(secret, header, body.replace('succeeded', 'failed'), 300, 1700000100)).toBe(false);
    expect(verifyWebhook('whsec_another_secret_00', header, body, 300, 1700000100)).toBe(false);
    expect(verifyWebhook(secret, header, body, 300, 1700000301)).toBe(false);
    expect(verifyWebhook(secret, 'garbage', body, 300, 1700000100)).toBe(false);
    expect(verifyWebhook(secret, header.replace('t=1700000000', 't=1700000001'), body, 300, 1700000100)).toBe(false);
  });
});
