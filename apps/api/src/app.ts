import express from 'express';
import type { Config, Logger } from '@spotter/shared';
import type { JobService } from './job-service.js';
import { apiKeyAuth } from './middleware/auth.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { requestLog } from './middleware/request-log.js';
import { jobRoutes } from './routes/job-routes.js';
import { systemRoutes } from './routes/system-routes.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  service: JobService;
  system: Parameters<typeof systemRoutes>[0];
}

/** The Express application; all I/O comes in through `deps`. */
export function createApp({ config, log, service, system }: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestLog(log));
  app.use(systemRoutes(system));
  app.use('/v1', apiKeyAuth(config.http.apiKeys), express.json({ limit: '64kb' }), jobRoutes(service, config));
  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
