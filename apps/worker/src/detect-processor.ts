import { UnrecoverableError, type Job } from 'bullmq';
import { DetectJobData, type Logger } from '@spotter/shared';
import { failedRecord, finishJob, isRetryable, runDetection, type DetectionDeps } from './run-detection.js';

/** BullMQ processor for detect jobs: parse, run, record; every job ends in a final record. */
export function detectProcessor(deps: DetectionDeps, log: Logger) {
  return async (job: Job) => {
    const startedAt = new Date();
    const parsed = DetectJobData.safeParse(job.data);
    if (!parsed.success) {
      log.error({ job_id: job.id, issues: parsed.error.issues.length }, 'malformed detect job payload');
      throw new UnrecoverableError('malformed job payload');
    }
    const data = parsed.data;
    try {
      const record = await runDetection(deps, data, startedAt);
      await finishJob(deps, record);
      const { timings_ms, result } = record.job;
      log.info({ job_id: data.id, status: 'succeeded', detections: result?.detections.length, timings_ms }, 'job finished');
      return { detections: result?.detections.length ?? 0 };
    } catch (err) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isRetryable(err) && !lastAttempt) {
        log.warn({ job_id: data.id, attempt: job.attemptsMade + 1, err }, 'job attempt failed; will retry');
        throw err;
      }
      const record = failedRecord(data, startedAt, err);
      await finishJob(deps, record);
      log.info({ job_id: data.id, status: 'failed', code: record.job.error?.code, err }, 'job finished');
      throw new UnrecoverableError(record.job.error?.message ?? 'failed');
    }
  };
}
