import { UnrecoverableError, type Job } from 'bullmq';
import { InvalidRequestError, WebhookJobData, type Logger } from '@spotter/shared';
import { deliverWebhook, WebhookDeliveryError, type WebhookDeps } from './deliver-webhook.js';

/** BullMQ processor for webhook deliveries; each attempt is logged on the job for GET /v1/jobs/{id}. */
export function webhookProcessor(deps: WebhookDeps, log: Logger) {
  return async (job: Job) => {
    const data = WebhookJobData.parse(job.data);
    const at = new Date().toISOString();
    try {
      const status = await deliverWebhook(deps, data);
      await job.log(JSON.stringify({ at, status_code: status, error: null }));
      log.info({ job_id: data.job_id, event: data.event, status_code: status, attempt: job.attemptsMade + 1 }, 'webhook delivered');
    } catch (err) {
      const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
      const message = (err as Error).message;
      await job.log(JSON.stringify({ at, status_code: statusCode, error: message }));
      log.warn({ job_id: data.job_id, event: data.event, status_code: statusCode, attempt: job.attemptsMade + 1, error: message }, 'webhook attempt failed');
      // A destination that is now forbidden will stay forbidden.
      if (err instanceof InvalidRequestError) throw new UnrecoverableError(message);
      throw err;
    }
  };
}
