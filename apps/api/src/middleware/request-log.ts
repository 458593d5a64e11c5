import type { RequestHandler } from 'express';
import type { Logger } from '@spotter/shared';

/** One log line per request: route template (not the raw URL), status, duration. */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.path;
      log.info(
        { method: req.method, route, status: res.statusCode, duration_ms: Math.round(ms * 10) / 10, job_id: res.locals.jobId },
        'request',
      );
    });
    next();
  };
}
