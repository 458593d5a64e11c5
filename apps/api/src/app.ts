import express from 'express';
import type { Config, Logger, Queues } from '@spotter/shared';
import { queueDashboard } from './queue-dashboard.js';
import type { ApiMetrics } from './api-metrics.js';
import type { JobService } from './job-service.js';
import { apiKeyAuth } from './middleware/auth.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { observeRequests } from './middleware/observe-requests.js';
import { jobRoutes } from './routes/job-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { monitoringRoutes } from './routes/monitoring-routes.js';
import type { MonitoringService } from './monitoring-service.js';
import type { RolloutService } from './rollout-service.js';
import { systemRoutes } from './routes/system-routes.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  service: JobService;
  rollout: RolloutService;
  monitoring: MonitoringService;
  metrics: ApiMetrics;
  queues: Queues;
  system: Omit<Parameters<typeof systemRoutes>[0], 'metrics'>;
}

/** The Express application; all I/O comes in through `deps`. */
export function createApp({ config, log, service, rollout, monitoring, metrics, queues, system }: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(observeRequests(log, metrics));
  app.use(systemRoutes({ ...system, metrics }));
  app.use('/admin/queues', apiKeyAuth(config.http.apiKeys, { browser: true }), queueDashboard(queues));
  app.use('/v1', apiKeyAuth(config.http.apiKeys), express.json({ limit: '64kb' }));
  // Routers declare full paths, so req.route names the whole route template in logs and metrics.
  app.use(jobRoutes(service, config, metrics));
  app.use(modelRoutes(rollout));
  app.use(monitoringRoutes(monitoring));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
