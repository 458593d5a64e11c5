import { UnrecoverableError, type Job } from 'bullmq';
import { DetectJobData, QueueNames, type Logger } from '@spotter/shared';
import { extractTraceContext, inSpan, recordSpan, SpanKind } from '@spotter/telemetry';
import { failedRecord, finishJob, isRetryable, runDetection, runShadow, type DetectionDeps } from './run-detection.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** BullMQ processor for detect jobs: parse, run, record; every job ends in a final record. */
export function detectProcessor(deps: DetectionDeps, log: Logger, metrics: WorkerMetrics) {
  return async (job: Job) => {
    const startedAt = new Date();
    const parsed = DetectJobData.safeParse(job.data);
    if (!parsed.success) {
      log.error({ job_id: job.id, issues: parsed.error.issues.length }, 'malformed detect job payload');
      throw new UnrecoverableError('malformed job payload');
    }
    const data = parsed.data;
    // Continue the trace of the upload that created the job.
    const parent = extractTraceContext(data.trace);
    recordSpan('detect wait', job.timestamp, startedAt.getTime(), { 'spotter.job.id': data.id, 'messaging.destination.name': QueueNames.detect }, parent);
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': QueueNames.detect,
      'messaging.message.id': data.id,
      'spotter.job.id': data.id,
      'spotter.model.name': data.model,
      'spotter.job.attempt': job.attemptsMade + 1,
    };
    metrics.busySlots.inc();
    try {
      return await inSpan('detect process', { kind: SpanKind.CONSUMER, attributes, parent }, async (span) => {
        try {
          const { record, observation } = await runDetection(deps, data, startedAt);
          await finishJob(deps, record, data, observation);
          // The client's answer does not wait for the candidate.
          void runShadow(deps, data, record);
          metrics.observeJob(record);
          const { timings_ms, result } = record.job;
          span.setAttribute('spotter.detections.count', result?.detections.length ?? 0);
          log.info({ job_id: data.id, status: 'succeeded', detections: result?.detections.length, timings_ms }, 'job finished');
          // The API answers from this copy while the job is in Redis, saving a storage read.
          return record.job;
        } catch (err) {
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (isRetryable(err) && !lastAttempt) {
            log.warn({ job_id: data.id, attempt: job.attemptsMade + 1, err }, 'job attempt failed; will retry');
            throw err;
          }
          const record = failedRecord(data, startedAt, err);
          await finishJob(deps, record, data);
          metrics.observeJob(record);
          log.info({ job_id: data.id, status: 'failed', code: record.job.error?.code, err }, 'job finished');
          throw new UnrecoverableError(record.job.error?.message ?? 'failed');
        }
      });
    } finally {
      metrics.busySlots.dec();
    }
  };
}
