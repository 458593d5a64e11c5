import dns from 'node:dns';
import net from 'node:net';
import { ValidationError, WebhookUrlForbiddenError, WebhookUrlUnresolvableError } from '@spotter/shared';

// Destinations a webhook must never reach unless an operator allows them explicitly:
// loopback, private, link-local (incl. cloud metadata 169.254.169.254), CGNAT, multicast,
// reserved, and their IPv6 counterparts.
const blocked = new net.BlockList();
for (const [net4, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net4, prefix, 'ipv4');
for (const [net6, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net6, prefix, 'ipv6');

/** True when an IP address is publicly routable (IPv4-mapped IPv6 is judged as IPv4). */
export function isPublicAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return isPublicAddress(mapped[1]!);
  const family = net.isIP(ip);
  if (family === 0) return false;
  return !blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function effectivePort(url: URL) {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** Whether `host` or `host:port` of the URL is in the operator's allow-list. */
export function isAllowedHost(url: URL, allowHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostPort = `${host}:${effectivePort(url)}`;
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase();
    return e === host || e === hostPort;
  });
}

const forbidden = (message: string) => new WebhookUrlForbiddenError(message);

/**
 * Checks a webhook URL: http(s), no credentials, and every address its host resolves to
 * public, unless the host is allow-listed. Used at submission and again at delivery.
 */
export async function assertWebhookUrlAllowed(raw: string, allowHosts: readonly string[]): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('webhook_url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw forbidden('webhook_url must use http or https');
  if (url.username || url.password) throw forbidden('webhook_url must not contain credentials');
  if (isAllowedHost(url, allowHosts)) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new WebhookUrlUnresolvableError(host);
    }
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    throw forbidden(
      `webhook_url host ${JSON.stringify(host)} resolves to a private, loopback or link-local address; ` +
        'operators can allow it with SPOTTER_WEBHOOK_ALLOW_HOSTS',
    );
  }
  return url;
}

/**
 * A `lookup` for http.request that refuses non-public addresses at connect time, so a
 * host cannot pass the check and then re-resolve to a private address (DNS rebinding).
 */
export const publicOnlyLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      return callback(Object.assign(new Error(`refusing to connect to non-public address ${bad?.address}`), { code: 'EFORBIDDEN' }), '', 0);
    }
    if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};
