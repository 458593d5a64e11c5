import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@spotter/config';
import { lifecycleDeps } from '@spotter/jobs';
import { ModelRegistry, Rollout } from '@spotter/models';
import { createStorage } from '@spotter/storage';
import { createRedis, createStores } from '@spotter/stores';
import { createLogger, startTracing, traceFields } from '@spotter/telemetry';
import { createApiMetrics } from './api-metrics.js';
import { createApp } from './app.js';
import { startMaintenance } from './maintenance.js';
import { BatchService } from './services/batch-service.js';
import { JobService } from './services/job-service.js';
import { JobWaiters } from './services/job-waiters.js';
import { MonitoringService, type DriftResult } from './services/monitoring-service.js';
import { ReportService } from './services/report-service.js';

// Composition root: configuration is read here once and adapters are chosen here.
const config = loadConfig(process.env);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const tracing = await startTracing({ serviceName: 'spotter-api', version, otlpEndpoint: config.telemetry.otlpEndpoint });
const log = createLogger('spotter-api', config.log.level, traceFields);

const redis = createRedis(config.redis.url, 'api');
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
// Blocking readers (completion events, maintenance) wait through outages on their own connection.
const blocking = createRedis(config.redis.url, 'worker');
blocking.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
const stores = createStores(redis, config);
const storage = await createStorage(config.storage);
const registry = await ModelRegistry.load(config.model.dir, config.model.name);
const rollout = new Rollout({ store: stores.rollout, profiles: stores.profiles, registry, policy: config.rollout, alerts: stores.queue });
const waiters = new JobWaiters();
const events = stores.queue.onDetectFinished(blocking, (id, rv) => waiters.notify(id, rv), (err) => log.warn({ err: err.message }, 'queue events error'));
const lifecycle = lifecycleDeps(stores, storage, config);
const jobs = new JobService({ config, storage, lifecycle, idempotency: stores.idempotency, rollout, registry, waiters, log });
const batches = new BatchService({ config, storage, lifecycle, idempotency: stores.idempotency, rollout, registry, log });
const monitoring = new MonitoringService({ config, profiles: stores.profiles, alarms: stores.alarms, rollout, jobs, records: stores.jobs, storage });
const metrics = createApiMetrics(stores.queue, () => stores.alarms.lastReport<DriftResult>());
const maintenance = startMaintenance({
  config,
  connection: blocking,
  lifecycle,
  storage,
  monitoring,
  alarms: stores.alarms,
  queue: stores.queue,
  log,
});
const app = createApp({
  config,
  log,
  jobs,
  batches,
  monitoring,
  reports: new ReportService(storage),
  // Built by the set-up (scripts/lib.mjs ensureConsole); served as files, not imported.
  consoleDir: fileURLToPath(new URL('../../console/dist', import.meta.url)),
  registry,
  rollout,
  queue: stores.queue,
  rateLimits: stores.rateLimits,
  metrics,
  system: { ping: stores.ping, storage, version },
});

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
  server.close();
  server.closeIdleConnections();
  await Promise.allSettled([maintenance.stop(), events.close(), stores.queue.close(), tracing.shutdown()]);
  redis.disconnect();
  blocking.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
