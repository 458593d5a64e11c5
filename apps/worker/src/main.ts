import { readFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { createLogger, createQueues, createRedis, createStorage, loadConfig, ModelError, QueueNames } from '@spotter/shared';
import { OnnxDetector, modelSpec } from '@spotter/detector';
import { startTracing, traceFields } from '@spotter/telemetry';
import { detectProcessor } from './detect-processor.js';
import { startOpsServer } from './ops-server.js';
import { webhookProcessor } from './webhook-processor.js';
import { createWorkerMetrics } from './worker-metrics.js';

// Composition root: configuration is read here once and adapters are chosen here.
const config = loadConfig(process.env);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const tracing = await startTracing({ serviceName: 'spotter-worker', version, otlpEndpoint: config.telemetry.otlpEndpoint });
const log = createLogger('spotter-worker', config.log.level, traceFields);
const metrics = createWorkerMetrics(config.worker.concurrency);

let detector: OnnxDetector;
try {
  // One session per model per process, loaded and warmed before any job is taken.
  detector = await OnnxDetector.load(modelSpec(config.model.name, config.model.dir), config.model);
} catch (err) {
  if (err instanceof ModelError) log.fatal(`cannot start: ${err.message}`);
  else log.fatal({ err }, 'cannot start: the model is not usable');
  process.exit(1);
}
metrics.modelLoad.set({ model: detector.name }, detector.loadMs / 1000);
log.info({ model: detector.name, version: detector.version, input: detector.inputSize, load_ms: Math.round(detector.loadMs) }, 'model ready');

const connection = createRedis(config.redis.url, 'worker');
connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
const storage = await createStorage(config.storage);
const queues = createQueues(config, connection);
const base = { connection, prefix: config.redis.prefix };

const detectWorker = new Worker(QueueNames.detect, detectProcessor({ config, storage, queues, detector }, log, metrics), {
  ...base,
  concurrency: config.worker.concurrency,
});
const webhookWorker = new Worker(QueueNames.webhooks, webhookProcessor({ config, storage }, log, metrics), { ...base, concurrency: 8 });
for (const w of [detectWorker, webhookWorker]) w.on('error', (err) => log.warn({ err: err.message }, 'worker error'));

const ops = await startOpsServer(
  config.worker.port,
  config.worker.host,
  async () => {
    const [redis, store] = await Promise.allSettled([connection.ping(), storage.check()]);
    const show = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : `error: ${(r.reason as Error).message}`);
    return { model: 'ok', redis: show(redis), storage: show(store) };
  },
  metrics.registry,
);
log.info(
  { port: ops.port, concurrency: config.worker.concurrency, storage: storage.describe, tracing: tracing.enabled },
  `spotter worker ready (health and metrics on port ${ops.port})`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: finishing jobs in hand');
  // close() stops taking jobs and waits for the active ones to finish.
  await Promise.allSettled([detectWorker.close(), webhookWorker.close()]);
  await Promise.allSettled([queues.detect.close(), queues.webhooks.close(), detector.close(), tracing.shutdown()]);
  ops.server.close();
  connection.disconnect();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
