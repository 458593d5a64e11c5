import { UnrecoverableError, type Job } from 'bullmq';
import { AlertJobData, InvalidRequestError, WebhookJobData, type Logger } from '@spotter/shared';
import { extractTraceContext, inSpan, SpanKind } from '@spotter/telemetry';
import { deliverAlert, deliverWebhook, WebhookDeliveryError, type WebhookDeps } from './deliver-webhook.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** BullMQ processor for webhook deliveries; each attempt is logged on the job for GET /v1/jobs/{id}. */
export function webhookProcessor(deps: WebhookDeps, log: Logger, metrics: WorkerMetrics) {
  return async (job: Job) => {
    if (job.name === 'alert') {
      const alert = AlertJobData.parse(job.data);
      const status = await deliverAlert(deps, alert);
      log.info({ event: alert.body.event, event_id: alert.event_id, status_code: status }, 'alert delivered');
      return;
    }
    const data = WebhookJobData.parse(job.data);
    const attempt = job.attemptsMade + 1;
    const attributes = { 'spotter.job.id': data.job_id, 'http.request.method': 'POST', 'spotter.webhook.attempt': attempt };
    // Each attempt is a span in the trace of the job it reports.
    return inSpan('webhook deliver', { kind: SpanKind.CLIENT, attributes, parent: extractTraceContext(data.trace) }, async (span) => {
      const at = new Date().toISOString();
      try {
        const status = await deliverWebhook(deps, data);
        span.setAttribute('http.response.status_code', status);
        await job.log(JSON.stringify({ at, status_code: status, error: null }));
        metrics.webhookDeliveries.inc({ outcome: 'delivered' });
        log.info({ job_id: data.job_id, event: data.event, status_code: status, attempt }, 'webhook delivered');
      } catch (err) {
        const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
        if (statusCode) span.setAttribute('http.response.status_code', statusCode);
        const message = (err as Error).message;
        await job.log(JSON.stringify({ at, status_code: statusCode, error: message }));
        // A destination that is now forbidden will stay forbidden.
        const giveUp = err instanceof InvalidRequestError || attempt >= (job.opts.attempts ?? 1);
        metrics.webhookDeliveries.inc({ outcome: giveUp ? 'gave_up' : 'retrying' });
        log.warn({ job_id: data.job_id, event: data.event, status_code: statusCode, attempt, error: message }, 'webhook attempt failed');
        if (err instanceof InvalidRequestError) throw new UnrecoverableError(message);
        throw err;
      }
    });
  };
}
