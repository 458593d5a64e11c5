import { claimFinal, storeFinal, type Claim, type LifecycleDeps } from '@spotter/jobs';
import type { Rollout } from '@spotter/models';
import type { Observation } from '@spotter/monitoring';
import type { DetectJobData, JobRecord } from '@spotter/shared';
import type { ProfileStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import type { AfterAnswer } from '../after-answer.js';
import type { WorkerMetrics } from '../worker-metrics.js';

export interface RecordDeps {
  lifecycle: LifecycleDeps;
  after: AfterAnswer;
  profiles: ProfileStore;
  rollout: Rollout;
  metrics: WorkerMetrics;
  log: Logger;
}

/**
 * Stage 3: ends the job. Its final record is claimed and its webhook scheduled now (see
 * claimFinal): that is the answer. After it, off the answer's path: the record is stored
 * (storeFinal) and, only if this attempt's record is the one that holds, counted:
 * Prometheus, the monitoring profile (observed now, from the pixels the job decoded; the job
 * as a labelling candidate), the rollout's per-model outcomes and, for a canary's job, the
 * rollout's guards.
 */
export async function recordOutcome(
  deps: RecordDeps,
  data: DetectJobData,
  record: JobRecord,
  observe: () => Observation = () => ({}),
  opts: { repeat?: boolean; keepImage?: boolean } = {},
): Promise<Claim> {
  const claim = await claimFinal(deps.lifecycle, data, record, opts);
  deps.after.later('storing and counting the job', async () => {
    const stored = await storeFinal(deps.lifecycle, data, claim, opts);
    if (!stored) deps.log.warn({ job_id: data.id }, 'result not stored yet (storage unavailable); the reconciler will write it');
    if (claim.claimed) await countOutcome(deps, data, claim.record, observe());
  });
  return claim;
}

async function countOutcome(deps: RecordDeps, data: DetectJobData, record: JobRecord, observation: Observation) {
  const { job } = record;
  deps.metrics.observeJob(record);
  const failed = job.status === 'failed';
  const monitored: Observation = {
    ...observation,
    failed: String(failed),
    // The service objectives are for realtime jobs: a batch image is meant to wait its turn.
    ...(job.timings_ms && !data.batch ? { latency_seconds: job.timings_ms.total / 1000, queue_seconds: job.timings_ms.queue / 1000 } : {}),
  };
  const candidate = job.status === 'succeeded' && job.finished_at ? { id: job.id, finishedAt: Date.parse(job.finished_at) } : undefined;
  const [, judged] = await Promise.all([deps.profiles.record(job.model, monitored, { job: candidate }), deps.rollout.recordOutcome(job.model, failed)]);
  if (data.rollout === 'canary') {
    const event = await deps.rollout.judge(job.model, judged);
    if (event) deps.log.warn({ candidate: event.candidate, guard: event.guard, reason: event.reason }, 'canary rolled back by a guard');
  }
}
