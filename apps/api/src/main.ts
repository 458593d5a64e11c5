import { readFileSync } from 'node:fs';
import { loadConfig } from '@spotter/config';
import { createLogger, startTracing, traceFields } from '@spotter/telemetry';
import { composeApi } from './compose-api.js';

// Composition root: configuration is read here once and adapters are chosen here.
const config = loadConfig(process.env);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const tracing = await startTracing({ serviceName: 'spotter-api', version, otlpEndpoint: config.telemetry.otlpEndpoint });
const log = createLogger('spotter-api', config.log.level, traceFields);
const { app, storage, close } = await composeApi(config, log, version);

const server = app.listen(config.http.port, config.http.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.http.port;
  log.info(
    { url: `http://${config.http.host}:${port}`, storage: storage.describe, tracing: tracing.enabled },
    `spotter api listening on http://${config.http.host}:${port}`,
  );
  if (config.http.apiKeys.length + config.http.adminKeys.length === 0) {
    log.warn(`SPOTTER_API_KEYS is not set: the API is open to anyone who can reach ${config.http.host}`);
  }
});
server.requestTimeout = 120_000;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // With Redis unreachable, closing the queues would wait for it forever: bound the goodbye.
  setTimeout(() => process.exit(0), 10_000).unref();
  server.close();
  server.closeIdleConnections();
  await Promise.allSettled([close(), tracing.shutdown()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
