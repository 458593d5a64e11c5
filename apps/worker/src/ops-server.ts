import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * /healthz, /readyz and /metrics for the worker, on its own port. `ready` must answer
 * within a second whatever its dependencies do (it is given probes with timeouts).
 */
export function startOpsServer(
  port: number,
  host: string,
  ready: () => Promise<Record<string, string>>,
  registry: { contentType: string; metrics(): Promise<string> },
  metricsToken: string | undefined,
) {
  const expected = metricsToken ? digest(metricsToken) : null;
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url === '/metrics') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (expected && !(m && timingSafeEqual(digest(m[1]!), expected))) {
        return send(401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong metrics token' } }, { 'www-authenticate': 'Bearer' });
      }
      const body = await registry.metrics();
      return res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    }
    if (req.url === '/readyz') {
      const checks = await ready();
      const ok = Object.values(checks).every((v) => v === 'ok');
      return send(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks }, ok ? {} : { 'retry-after': '5' });
    }
    send(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  return new Promise<{ server: http.Server; port: number }>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}
