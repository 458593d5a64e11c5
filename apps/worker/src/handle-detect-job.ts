import { performance } from 'node:perf_hooks';
import type { Config } from '@spotter/config';
import type { Claim } from '@spotter/jobs';
import type { Observation } from '@spotter/monitoring';
import { DependencyUnavailableError, encodeRawTensor, failedRecord, isRetryable, JobErasedError, JobTimeoutError, SpotterError, withTimeout, type DetectJobData, type JobRecord } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { JobStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import type { ModelPool } from './model-pool.js';
import type { ShadowRunner } from './shadow-runner.js';
import { detectImage } from './stages/detect-image.js';
import { fetchImage } from './stages/fetch-image.js';
import { recordOutcome, type RecordDeps } from './stages/record-outcome.js';

export interface DetectDeps {
  config: Config;
  storage: ObjectStorage;
  models: ModelPool;
  jobs: JobStore;
  record: RecordDeps;
  shadows: ShadowRunner;
  log: Logger;
}

/** What the queue knows of this attempt: how many before it failed or crashed. */
export interface Attempt {
  /** Attempts that failed with an error. */
  failed: number;
  /** Attempts whose worker died or lost its lock (BullMQ's stall count). */
  crashed: number;
}

/** How the queue should treat the job after this attempt. */
export type AttemptOutcome =
  | { kind: 'final'; done: Claim }
  /** A dependency is down: try again after `delayMs` without spending an attempt. */
  | { kind: 'wait'; delayMs: number }
  /** Failed, with attempts left: let the queue retry with backoff. */
  | { kind: 'retry'; error: unknown }
  /** Erased by its owner while queued or running: nothing to do, nothing to write. */
  | { kind: 'erased' };

/**
 * One attempt at a detect job. A job that already has a final record (its worker died after
 * deciding) is completed from it, not run again. Attempts are counted whether they failed or
 * crashed; the last one always ends the job with a record and its webhook. Storage outages
 * are waited out for SPOTTER_OUTAGE_BUDGET_S before the job fails with STORAGE_UNAVAILABLE.
 */
export async function handleDetectJob(deps: DetectDeps, data: DetectJobData, attempt: Attempt, startedAt: Date): Promise<AttemptOutcome> {
  try {
    return await attemptJob(deps, data, attempt, startedAt);
  } catch (err) {
    if (err instanceof JobErasedError) return { kind: 'erased' };
    throw err;
  }
}

async function attemptJob(deps: DetectDeps, data: DetectJobData, attempt: Attempt, startedAt: Date): Promise<AttemptOutcome> {
  const { config, log } = deps;
  const begun = await deps.jobs.begin(data, startedAt.toISOString());
  if ('final' in begun) return { kind: 'final', done: await recordOutcome(deps.record, data, begun.final, undefined, { repeat: true }) };
  const used = attempt.failed + attempt.crashed;
  const fail = (code: string, message: string) => failedRecord(data, { startedAt: begun.startedAt, error: { code, message } });
  let record: JobRecord;
  let observe: (() => Observation) | undefined;
  if (used >= config.jobs.attempts) {
    record = fail('WORKER_LOST', `the worker running this job stopped ${attempt.crashed} time(s) before finishing it; attempts are used up`);
  } else {
    try {
      ({ record, observe } = await withTimeout(
        (async () => {
          const t0 = performance.now();
          const image = await fetchImage(deps.storage, data);
          const fetched = { start: t0, end: performance.now() };
          const done = await detectImage(deps.models, data, image, begun.startedAt, fetched, config.images.maxPixels);
          // Stored before the job is final: the client that asked for it reads it once the job is.
          if (done.raw) await deps.storage.put(storageKeys.output(data.id), Buffer.from(encodeRawTensor(done.raw.dims, done.raw.data)), 'application/octet-stream');
          return done;
        })(),
        config.jobs.timeoutMs,
        () => new JobTimeoutError(`the attempt took longer than ${config.jobs.timeoutMs / 1000} s`),
      ));
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        const since = await deps.jobs.outageSince(data.id);
        const elapsed = Date.now() - since;
        log.warn({ job_id: data.id, dependency: err.dependency, outage_s: Math.round(elapsed / 1000), err: err.cause }, 'dependency unavailable; the job waits');
        // Capped exponential backoff: wait about as long as the outage has lasted, 1 to 30 s.
        if (elapsed < config.jobs.outageBudgetMs) return { kind: 'wait', delayMs: Math.min(30_000, Math.max(1000, elapsed)) };
        record = fail(err.code, `${err.dependency} was unavailable for more than ${Math.round(config.jobs.outageBudgetMs / 1000)} s`);
      } else if (isRetryable(err) && used + 1 < config.jobs.attempts) {
        log.warn({ job_id: data.id, attempt: used + 1, err }, 'job attempt failed; will retry');
        return { kind: 'retry', error: err };
      } else {
        const known = err instanceof SpotterError;
        // Infrastructure messages can carry hostnames or paths; clients get a generic one.
        record = known ? fail(err.code, err.message) : fail('PROCESSING_FAILED', 'processing failed after all retries; the operator can find details in the worker log');
        if (!known) log.error({ job_id: data.id, err }, 'job failed');
      }
    }
  }
  // A shadow run reads the original after the job has answered: it deletes it when retention is 0.
  const shadowed = Boolean(data.shadow) && record.job.status === 'succeeded';
  const done = await recordOutcome(deps.record, data, record, observe, { keepImage: shadowed });
  if (done.claimed && shadowed) deps.shadows.offer(data, done.record);
  return { kind: 'final', done };
}
