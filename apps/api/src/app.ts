import express, { type Express } from 'express';
import type { Config } from '@spotter/config';
import type { ModelRegistry, Rollout } from '@spotter/models';
import type { JobQueue, RateLimitStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import type { ApiMetrics } from './api-metrics.js';
import { apiKeyAuth, requireAdmin } from './middleware/auth.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { observeRequests } from './middleware/observe-requests.js';
import { rateLimit } from './middleware/rate-limit.js';
import { queueDashboard } from './queue-dashboard.js';
import { consoleRoutes } from './routes/console-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { modelFileRoutes } from './routes/model-file-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { monitoringChartRoutes } from './routes/monitoring-chart-routes.js';
import { monitoringRoutes } from './routes/monitoring-routes.js';
import { reportPages, reportRoutes } from './routes/report-routes.js';
import { systemRoutes, type SystemDeps } from './routes/system-routes.js';
import { batchRoutes } from './routes/batch-routes.js';
import { oipHealthRoutes, oipRoutes } from './routes/oip-routes.js';
import type { OipService } from './oip/oip-service.js';
import { videoRoutes } from './routes/video-routes.js';
import type { BatchService } from './services/batch-service.js';
import type { VideoService } from './services/video-service.js';
import type { JobService } from './services/job-service.js';
import type { MonitoringService } from './services/monitoring-service.js';
import type { ReportService } from './services/report-service.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  jobs: JobService;
  batches: BatchService;
  videos: VideoService;
  monitoring: MonitoringService;
  reports: ReportService;
  oip: OipService;
  /** The console's built files (apps/console/dist). */
  consoleDir: string;
  registry: ModelRegistry;
  rollout: Rollout;
  queue: JobQueue;
  rateLimits: RateLimitStore;
  metrics: ApiMetrics;
  system: Omit<SystemDeps, 'metrics' | 'metricsToken'>;
}

/** The Express application; all I/O comes in through `deps`. */
export function createApp(deps: AppDeps): Express {
  const { config, log, metrics } = deps;
  const keys = { tenant: config.http.apiKeys, admin: config.http.adminKeys };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(observeRequests(log, metrics));
  app.use(systemRoutes({ ...deps.system, metrics, metricsToken: config.http.metricsToken }));
  app.use('/admin/queues', apiKeyAuth(keys, { browser: true }), requireAdmin, queueDashboard(deps.queue));
  // The console's files carry no data: its API calls go through /v1 with the key.
  app.use(consoleRoutes(deps.consoleDir));
  app.use('/reports', apiKeyAuth(keys, { browser: true }), reportPages(deps.reports));
  const { perSecond, burst } = config.http.rateLimit;
  app.use('/v1', apiKeyAuth(keys), rateLimit(deps.rateLimits, perSecond, burst), express.json({ limit: '64kb' }));
  // Routers declare full paths, so req.route names the whole route template in logs and metrics.
  app.use(jobRoutes(deps.jobs, config, metrics));
  app.use(batchRoutes(deps.batches));
  app.use(videoRoutes(deps.videos));
  app.use(modelRoutes(deps.registry, deps.rollout, config.model.maxBytes));
  app.use(modelFileRoutes(deps.registry));
  app.use(monitoringRoutes(deps.monitoring));
  app.use(monitoringChartRoutes(deps.monitoring));
  app.use(reportRoutes(deps.reports));
  // The Open Inference Protocol (KServe v2, Triton): probes without a key, the rest as /v1.
  app.use(oipHealthRoutes({ ping: deps.system.ping, storage: deps.system.storage, oip: deps.oip, config }));
  app.use('/v2', apiKeyAuth(keys), rateLimit(deps.rateLimits, perSecond, burst));
  app.use(oipRoutes(deps.oip, config, deps.system.version));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
