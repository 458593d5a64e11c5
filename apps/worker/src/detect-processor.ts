import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { DetectJobData, QueueNames } from '@spotter/shared';
import { extractTraceContext, inSpan, recordSpan, SpanKind, type Logger } from '@spotter/telemetry';
import { handleDetectJob, type DetectDeps } from './handle-detect-job.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** BullMQ processor for detect jobs: parse, run one attempt, map its outcome onto the queue. */
export function detectProcessor(deps: DetectDeps, log: Logger, metrics: WorkerMetrics) {
  return async (job: Job, token?: string) => {
    const startedAt = new Date();
    const parsed = DetectJobData.safeParse(job.data);
    if (!parsed.success) {
      log.error({ job_id: job.id, issues: parsed.error.issues.length }, 'malformed detect job payload');
      throw new UnrecoverableError('malformed job payload');
    }
    const data = parsed.data;
    // Continue the trace of the upload that created the job.
    const parent = extractTraceContext(data.trace);
    const queue = data.batch ? QueueNames.detectBatch : QueueNames.detect;
    recordSpan('detect wait', job.timestamp, startedAt.getTime(), { 'spotter.job.id': data.id, 'messaging.destination.name': queue }, parent);
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': data.id,
      'spotter.job.id': data.id,
      'spotter.model.name': data.model,
      'spotter.job.attempt': job.attemptsMade + job.stalledCounter + 1,
    };
    metrics.busySlots.inc();
    try {
      const outcome = await inSpan('detect process', { kind: SpanKind.CONSUMER, attributes, parent }, async (span) => {
        const o = await handleDetectJob(deps, data, { failed: job.attemptsMade, crashed: job.stalledCounter }, startedAt);
        if (o.kind === 'final') {
          const { job: core } = o.done.record;
          span.setAttribute('spotter.detections.count', core.result?.detections.length ?? 0);
          if (o.done.claimed) log.info({ job_id: data.id, status: core.status, code: core.error?.code, detections: core.result?.detections.length, timings_ms: core.timings_ms }, 'job finished');
        }
        return o;
      });
      if (outcome.kind === 'wait') {
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      if (outcome.kind === 'retry') throw outcome.error;
      if (outcome.kind === 'erased') return null;
      const { record } = outcome.done;
      const { job: core } = record;
      // A failed job ends in BullMQ's failed set; its record is already stored and announced.
      if (core.status === 'failed') throw new UnrecoverableError(core.error?.message ?? 'failed');
      // The API answers waiting requests from this copy, saving a read.
      return record;
    } finally {
      metrics.busySlots.dec();
    }
  };
}
