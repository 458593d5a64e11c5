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
 * profile (with the job as a labelling candidate), the rollout's per-model outcomes and, for
 * a canary's job, the rollout's guards.
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
  const candidate = job.status === 'succeeded' && job.finished_at ? { id: job.id, finishedAt: Date.parse(job.finished_at) } : undefined;
  // Losing these counts must not fail a job whose answer is already given.
  const [, judged] = await Promise.all([deps.profiles.record(job.model, monitored, { job: candidate }), deps.rollout.recordOutcome(job.model, failed)]).catch((err: unknown) => {
    deps.log.warn({ job_id: data.id, err }, 'monitoring profile and model counters not recorded');
    return [];
  });
  if (data.rollout === 'canary' && judged !== undefined) {
    const event = await deps.rollout.judge(job.model, judged).catch((err: unknown) => {
      deps.log.warn({ job_id: data.id, err }, 'rollout guards not judged');
      return null;
    });
    if (event) deps.log.warn({ candidate: event.candidate, guard: event.guard, reason: event.reason }, 'canary rolled back by a guard');
  }
  return done;
}
