import { compareDetections } from '@spotter/shared';
import { decodeToFit } from '@spotter/imaging';
import type { Rollout } from '@spotter/models';
import { labelDisagreement, outputMetrics } from '@spotter/monitoring';
import type { DetectJobData, JobRecord } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { ProfileStore } from '@spotter/stores';
import { inSpan, type Logger } from '@spotter/telemetry';
import type { ModelPool } from './model-pool.js';

export interface ShadowDeps {
  storage: ObjectStorage;
  models: ModelPool;
  rollout: Rollout;
  profiles: ProfileStore;
  maxPixels: number;
  log: Logger;
  /** Called once the job's image is no longer needed here (run, skipped or dropped). */
  release: (live: JobRecord) => Promise<unknown>;
}

/**
 * Runs shadow candidates on jobs that have already answered, one at a time per worker (so
 * shadows take at most one inference slot), at most `maxPending` waiting; beyond that they
 * are skipped and counted. Owned by the worker process and closed on shutdown: runs not
 * started by then are dropped (they are never part of an answer).
 */
export class ShadowRunner {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private closed = false;

  constructor(private readonly deps: ShadowDeps, private readonly maxPending = 64) {}

  /** Queues the candidate's run on the job's image when the job asks for one; never waits for it. */
  offer(data: DetectJobData, live: JobRecord): void {
    const candidate = data.shadow;
    const release = () => void this.deps.release(live).catch(() => undefined);
    if (!candidate || !live.job.result || this.closed) return release();
    if (this.pending >= this.maxPending) {
      void this.deps.rollout.recordShadow(candidate, 'skipped').catch(() => undefined);
      return release();
    }
    this.pending++;
    this.tail = this.tail
      .then(() => (this.closed ? undefined : this.runOnce(data, candidate, live)))
      .finally(() => {
        this.pending--;
        release();
      });
  }

  /** Stops taking runs and waits for the one in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  /**
   * Runs the candidate, stores its answer apart, adds up agreement, profiles the candidate's
   * outputs (the output-drift guard compares them with the live model's) and keeps the
   * disagreement for labelling; then the rollout's guards judge. A run whose candidate cannot
   * answer counts against it; other failures (storage, Redis) are only logged.
   */
  private async runOnce(data: DetectJobData, candidate: string, live: JobRecord): Promise<void> {
    const { storage, models, rollout, profiles, maxPixels, log } = this.deps;
    const result = live.job.result!;
    const judged = await inSpan('shadow', { attributes: { 'spotter.job.id': data.id, 'spotter.model.name': candidate } }, async () => {
      const bytes = await storage.get(data.image.key);
      if (!bytes) return null;
      let detections;
      try {
        detections = await models.use(candidate, async (detector) => (await detector.detect(await decodeToFit(bytes, detector.fit, maxPixels), data.min_score, 'low')).detections);
      } catch (err) {
        log.warn({ job_id: data.id, candidate, err }, 'shadow run failed: the candidate did not answer');
        return rollout.recordShadow(candidate, 'failed');
      }
      await storage.put(storageKeys.shadow(data.id), Buffer.from(JSON.stringify({ id: data.id, model: candidate, detections })), 'application/json');
      const { live_boxes, candidate_boxes, matched, class_flips, score_delta_sum } = compareDetections(result.detections, detections);
      const { width, height } = result.image;
      const [runs] = await Promise.all([
        rollout.recordShadow(candidate, { live_boxes, candidate_boxes, matched, class_flips, score_delta_sum }),
        profiles.record(candidate, outputMetrics(detections, width, height)),
        profiles.recordDisagreement(live.job.model, Date.parse(live.job.finished_at!), labelDisagreement(data.id, candidate, { live_boxes, candidate_boxes, matched, class_flips })),
      ]);
      return runs;
    }).catch((err: unknown) => {
      log.warn({ job_id: data.id, candidate, err }, 'shadow run not recorded');
      return null;
    });
    if (judged === null) return;
    const event = await rollout.judge(candidate, judged).catch((err: unknown) => {
      log.warn({ job_id: data.id, candidate, err }, 'rollout guards not judged');
      return null;
    });
    if (event) log.warn({ candidate, guard: event.guard, reason: event.reason }, 'shadow stopped by a guard');
  }
}
