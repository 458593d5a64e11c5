import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** /healthz, /readyz and /metrics for the worker, on its own port. */
export function startOpsServer(
  port: number,
  host: string,
  ready: () => Promise<Record<string, string>>,
  registry: { contentType: string; metrics(): Promise<string> },
) {
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url === '/metrics') {
      const body = await registry.metrics();
      return res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    }
    if (req.url === '/readyz') {
      const checks = await ready();
      const ok = Object.values(checks).every((v) => v === 'ok');
      return send(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks });
    }
    send(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  return new Promise<{ server: http.Server; port: number }>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}
