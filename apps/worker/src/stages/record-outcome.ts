import { finalizeJob, type Finalized, type LifecycleDeps } from '@spotter/jobs';
import type { Rollout } from '@spotter/models';
import type { Observation } from '@spotter/monitoring';
import type { DetectJobData, JobRecord } from '@spotter/shared';
import type { ProfileStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import type { WorkerMetrics } from '../worker-metrics.js';

export interface RecordDeps {
  lifecycle: LifecycleDeps;
  profiles: ProfileStore;
  rollout: Rollout;
  metrics: WorkerMetrics;
  log: Logger;
}

/**
 * Stage 3: ends the job (exactly once, see finalizeJob: claim, webhook, stored record), then,
 * only if this attempt's record is the one that holds, counts it: Prometheus, the monitoring
 * profile, the rollout's per-model outcomes and the canary guard.
 */
export async function recordOutcome(
  deps: RecordDeps,
  data: DetectJobData,
  record: JobRecord,
  observation: Observation = {},
  opts: { repeat?: boolean; keepImage?: boolean } = {},
): Promise<Finalized> {
  const done = await finalizeJob(deps.lifecycle, data, record, opts);
  if (!done.stored) deps.log.warn({ job_id: data.id }, 'result not stored yet (storage unavailable); the reconciler will write it');
  if (!done.claimed) return done;
  const { job } = done.record;
  deps.metrics.observeJob(done.record);
  const failed = job.status === 'failed';
  const monitored: Observation = {
    ...observation,
    failed: String(failed),
    ...(job.timings_ms ? { latency_seconds: job.timings_ms.total / 1000, queue_seconds: job.timings_ms.queue / 1000 } : {}),
  };
  // Losing these counts must not fail a job whose answer is already given.
  await Promise.all([deps.profiles.record(job.model, monitored), deps.rollout.recordOutcome(job.model, failed)]).catch((err: unknown) =>
    deps.log.warn({ job_id: data.id, err }, 'monitoring profile and model counters not recorded'),
  );
  if (data.rollout === 'canary') {
    const event = await deps.rollout.judgeCanary(job.model).catch(() => null);
    if (event) deps.log.warn({ candidate: event.candidate, reason: event.reason }, 'canary rolled back automatically');
  }
  return done;
}
