import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Config } from '@spotter/config';
import { lifecycleDeps } from '@spotter/jobs';
import { ModelRegistry, Rollout } from '@spotter/models';
import { createStorage } from '@spotter/storage';
import { createRedis, createStores } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import { createApiMetrics } from './api-metrics.js';
import { createApp } from './app.js';
import { startMaintenance } from './maintenance.js';
import { BatchService } from './services/batch-service.js';
import { JobService } from './services/job-service.js';
import { JobWaiters } from './services/job-waiters.js';
import { MonitoringService, type DriftResult } from './services/monitoring-service.js';
import { ReportService } from './services/report-service.js';
import { OipService } from './oip/oip-service.js';
import { VideoService } from './services/video-service.js';

/**
 * The API's composition: adapters chosen from the configuration, services wired to them, the
 * Express app and the maintenance schedules. `main.ts` listens; tests call this in-process.
 */
export async function composeApi(config: Config, log: Logger, version: string) {
  const redis = createRedis(config.redis.url, 'api');
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  // Blocking readers (completion events, maintenance) wait through outages on their own connection.
  const blocking = createRedis(config.redis.url, 'worker');
  blocking.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  const stores = createStores(redis, config);
  // Answer from the first request when Redis is there; start anyway (answering 503) when it is not.
  await Promise.race([once(redis, 'ready'), new Promise((r) => setTimeout(r, 5000).unref())]);
  const storage = await createStorage(config.storage);
  const registry = await ModelRegistry.load(config.model.dir, config.model.name, {
    storage,
    cacheDir: config.model.cacheDir,
    refreshMs: config.model.refreshMs,
    onError: (err) => log.warn({ err: err.message }, 'model registry'),
  });
  const rollout = new Rollout({ store: stores.rollout, profiles: stores.profiles, registry, policy: config.rollout, alerts: stores.queue });
  const waiters = new JobWaiters();
  const events = stores.queue.onDetectFinished(blocking, (id, rv) => waiters.notify(id, rv), (err) => log.warn({ err: err.message }, 'queue events error'));
  const lifecycle = lifecycleDeps(stores, storage, config);
  const jobs = new JobService({ config, storage, lifecycle, idempotency: stores.idempotency, rollout, registry, waiters, log });
  const batches = new BatchService({ config, storage, lifecycle, idempotency: stores.idempotency, rollout, registry, log });
  const monitoring = new MonitoringService({ config, profiles: stores.profiles, alarms: stores.alarms, rollout, jobs, records: stores.jobs, storage });
  const metrics = createApiMetrics(stores.queue, () => stores.alarms.lastReport<DriftResult>(), () => stores.alarms.evaluation(), stores.ping);
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
    videos: new VideoService({ config, storage, videos: stores.videos, webhooks: stores.webhooks, queue: stores.queue, idempotency: stores.idempotency, rollout, registry, log }),
    monitoring,
    reports: new ReportService(storage),
    oip: new OipService({ config, registry, jobs, liveModel: async () => (await rollout.state()).live }),
    // Built by the set-up (scripts/lib.mjs ensureConsole); served as files, not imported.
    consoleDir: config.http.consoleDir ?? fileURLToPath(new URL('../../console/dist', import.meta.url)),
    registry,
    rollout,
    queue: stores.queue,
    rateLimits: stores.rateLimits,
    metrics,
    system: { ping: stores.ping, storage, version },
  });

  return {
    app,
    storage,
    async close() {
      registry.close();
      await Promise.allSettled([maintenance.stop(), events.close(), stores.queue.close()]);
      redis.disconnect();
      blocking.disconnect();
    },
  };
}
