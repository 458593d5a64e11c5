import type { RequestHandler } from 'express';
import type { Logger } from '@spotter/telemetry';
import { context, propagation, SpanKind, SpanStatusCode, trace, tracer } from '@spotter/telemetry';
import type { ApiMetrics } from '../api-metrics.js';

const UPLOAD_ROUTES = new Set(['/v1/jobs', '/v1/predict', '/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer']);

/**
 * The edge of every request: a server span (continuing an incoming `traceparent`), one
 * log line and the duration histogram, all keyed by the route template, never the raw URL.
 */
export function observeRequests(log: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol } },
      parent,
    );
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.locals.jobId) span.setAttribute('spotter.job.id', res.locals.jobId as string);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      metrics.httpDuration.observe({ method: req.method, route, status_code: res.statusCode }, seconds);
      if (UPLOAD_ROUTES.has(route) && res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 401) {
        metrics.refused.inc({ reason: (res.locals.errorCode as string | undefined) ?? 'UNKNOWN' });
      }
      const { traceId, spanId, traceFlags } = span.spanContext();
      log.info(
        {
          method: req.method,
          route: route === 'unmatched' ? req.path : route,
          status: res.statusCode,
          duration_ms: Math.round(seconds * 1e4) / 10,
          job_id: res.locals.jobId,
          ...(traceFlags ? { trace_id: traceId, span_id: spanId } : {}),
        },
        'request',
      );
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
