import { UnrecoverableError, type Job } from 'bullmq';
import { deliverBatchWebhook, deliverJobWebhook, deliverVideoWebhook, type WebhookDeps } from '@spotter/jobs';
import { AlertJobData, BatchWebhookJobData, isRetryable, VideoJobNames, VideoWebhookJobData, WebhookDeliveryError, WebhookJobData } from '@spotter/shared';
import { extractTraceContext, inSpan, SpanKind, type Logger } from '@spotter/telemetry';
import { sendSignedWebhook } from '@spotter/webhooks';
import type { WorkerMetrics } from './worker-metrics.js';

/** BullMQ processor for webhook deliveries (job events and monitoring alerts). */
export function webhookProcessor(deps: WebhookDeps & Parameters<typeof deliverVideoWebhook>[0], log: Logger, metrics: WorkerMetrics) {
  return async (job: Job) => {
    if (job.name === 'alert') {
      const alert = AlertJobData.parse(job.data);
      const status = await sendSignedWebhook(deps.policy, alert.url, JSON.stringify(alert.body), alert.event_id);
      log.info({ event: alert.body.event, event_id: alert.event_id, status_code: status }, 'alert delivered');
      return;
    }
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    if (job.name === 'batch') {
      const batch = BatchWebhookJobData.parse(job.data);
      const status = await deliverBatchWebhook(deps, batch, last);
      log.info({ batch_id: batch.batch_id, event: batch.event, status_code: status, attempt }, 'batch webhook delivered');
      return;
    }
    if (job.name === VideoJobNames.webhook) {
      const video = VideoWebhookJobData.parse(job.data);
      try {
        const status = await deliverVideoWebhook(deps, video, last);
        log.info({ video_id: video.video_id, event: video.event, status_code: status, attempt }, 'video webhook delivered');
        return;
      } catch (err) {
        if (!isRetryable(err)) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    }
    const data = WebhookJobData.parse(job.data);
    const attributes = { 'spotter.job.id': data.job_id, 'http.request.method': 'POST', 'spotter.webhook.attempt': attempt };
    // Each attempt is a span in the trace of the job it reports.
    return inSpan('webhook deliver', { kind: SpanKind.CLIENT, attributes, parent: extractTraceContext(data.trace) }, async (span) => {
      try {
        const status = await deliverJobWebhook(deps, data, last);
        span.setAttribute('http.response.status_code', status);
        metrics.webhookDeliveries.inc({ outcome: 'delivered' });
        log.info({ job_id: data.job_id, event: data.event, status_code: status, attempt }, 'webhook delivered');
      } catch (err) {
        const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
        if (statusCode) span.setAttribute('http.response.status_code', statusCode);
        const giveUp = last || !isRetryable(err);
        metrics.webhookDeliveries.inc({ outcome: giveUp ? 'gave_up' : 'retrying' });
        log.warn({ job_id: data.job_id, event: data.event, status_code: statusCode, attempt, error: (err as Error).message }, 'webhook attempt failed');
        // A destination that is now forbidden will stay forbidden.
        if (!isRetryable(err)) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    });
  };
}
