import { readFileSync } from 'node:fs';
import { QueueEvents } from 'bullmq';
import { createLogger, createQueues, createRedis, createStorage, loadConfig, loadModelRegistry, QueueNames } from '@spotter/shared';
import { startTracing, traceFields } from '@spotter/telemetry';
import { monitorKeys, startAlarmMonitor, type LastReport } from './alarm-monitor.js';
import { createApiMetrics } from './api-metrics.js';
import { createApp } from './app.js';
import { JobService } from './job-service.js';
import { MonitoringService } from './monitoring-service.js';
import { RolloutService } from './rollout-service.js';

// Composition root: configuration is read here once and adapters are chosen here.
const config = loadConfig(process.env);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const tracing = await startTracing({ serviceName: 'spotter-api', version, otlpEndpoint: config.telemetry.otlpEndpoint });
const log = createLogger('spotter-api', config.log.level, traceFields);

const redis = createRedis(config.redis.url, 'api');
redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
const queues = createQueues(config, redis);
const events = new QueueEvents(QueueNames.detect, { connection: createRedis(config.redis.url, 'worker'), prefix: config.redis.prefix });
events.on('error', (err) => log.warn({ err: err.message }, 'queue events error'));
const storage = await createStorage(config.storage);
const metrics = createApiMetrics(queues, async () => {
  const raw = await redis.get(monitorKeys(config.redis.prefix).lastReport);
  return raw ? (JSON.parse(raw) as LastReport) : null;
});
const rollout = new RolloutService(await loadModelRegistry(config.model.dir, config.model.name), redis, config);
const service = new JobService({ config, storage, queues, redis, events, rollout });
const monitoring = new MonitoringService(redis, config, rollout, service, storage);
const alarmMonitor = startAlarmMonitor({ redis, config, monitoring, queues, log });
const app = createApp({ config, log, service, rollout, monitoring, metrics, queues, system: { redis, storage, version } });

const server = app.listen(config.http.port, config.http.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.http.port;
  log.info(
    { url: `http://${config.http.host}:${port}`, storage: storage.describe, tracing: tracing.enabled },
    `spotter api listening on http://${config.http.host}:${port}`,
  );
  if (config.http.apiKeys.length === 0) {
    log.warn(`SPOTTER_API_KEYS is not set: the API is open to anyone who can reach ${config.http.host}`);
  }
});
server.requestTimeout = 120_000;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  alarmMonitor.stop();
  server.close();
  server.closeIdleConnections();
  await Promise.allSettled([events.close(), queues.detect.close(), queues.webhooks.close(), tracing.shutdown()]);
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
