import { describe, expect, it } from 'vitest';
import { assertWebhookUrlAllowed, isAllowedHost, isPublicAddress } from './ssrf-guard.js';

describe('ssrf guard', () => {
  it.each([
    ['127.0.0.1', false], ['10.0.0.8', false], ['172.16.5.4', false], ['172.32.0.1', true], ['192.168.1.1', false],
    ['169.254.169.254', false], ['100.64.0.1', false], ['0.0.0.0', false], ['224.0.0.1', false], ['8.8.8.8', true],
    ['93.184.216.34', true], ['::1', false], ['::', false], ['fe80::1', false], ['fd00:ec2::254', false],
    ['::ffff:127.0.0.1', false], ['::ffff:8.8.8.8', true], ['2606:4700:4700::1111', true], ['not-an-ip', false],
  ])('%s is public: %s', (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });

  it('matches the allow-list by host or host:port', () => {
    expect(isAllowedHost(new URL('http://hooks.internal:8080/x'), ['hooks.internal'])).toBe(true);
    expect(isAllowedHost(new URL('http://hooks.internal:8080/x'), ['hooks.internal:8080'])).toBe(true);
    expect(isAllowedHost(new URL('http://hooks.internal:8081/x'), ['hooks.internal:8080'])).toBe(false);
    expect(isAllowedHost(new URL('https://hooks.internal/x'), ['hooks.internal:443'])).toBe(true);
  });

  it('refuses non-public destinations unless allow-listed', async () => {
    await expect(assertWebhookUrlAllowed('http://127.0.0.1:9000/h', [])).rejects.toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    await expect(assertWebhookUrlAllowed('http://localhost:9000/h', [])).rejects.toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    await expect(assertWebhookUrlAllowed('http://[::1]/h', [])).rejects.toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    await expect(assertWebhookUrlAllowed('file:///etc/passwd', [])).rejects.toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    await expect(assertWebhookUrlAllowed('http://127.0.0.1:9000/h', ['127.0.0.1:9000'])).resolves.toBeInstanceOf(URL);
    await expect(assertWebhookUrlAllowed('http://8.8.8.8/h', [])).resolves.toBeInstanceOf(URL);
  });
});
