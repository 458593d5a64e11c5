import type { Redis } from 'ioredis';
import { activeReference, chunkProfiles, driftReport, mergeProfiles, readBuckets, readF1Stream, recordFeedback, saveReference, scoreImage } from '@spotter/monitoring';
import { ConflictError, InvalidRequestError, JobNotReadyError, storageKeys, type Config, type FeedbackBody, type ObjectStorage } from '@spotter/shared';
import type { JobService } from './job-service.js';
import { monitorKeys } from './alarm-monitor.js';
import type { RolloutService } from './rollout-service.js';

/** Monitoring use cases: freeze a reference from served jobs, report drift of a window. */
export class MonitoringService {
  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly rollout: RolloutService,
    private readonly jobs: JobService,
    private readonly storage: ObjectStorage,
  ) {}

  /** Late labels for a succeeded job: scored against its answer, folded into the current window. */
  async feedback(owner: string, id: string, body: FeedbackBody) {
    const job = await this.jobs.get(owner, id);
    if (job.status !== 'succeeded' || !job.result) throw new JobNotReadyError(`job ${id} is ${job.status}; feedback needs a succeeded job`);
    // One feedback per job, so that retries do not count twice.
    if (!(await this.redis.set(`${this.config.redis.prefix}:mon:fb:${id}`, '1', 'EX', this.config.monitoring.retentionS, 'NX'))) {
      throw new ConflictError(`feedback for job ${id} was already recorded`);
    }
    const perf = scoreImage(job.result.detections, body.boxes);
    await this.storage.put(storageKeys.feedback(id), Buffer.from(JSON.stringify({ id, received_at: new Date().toISOString(), ...body })), 'application/json');
    await recordFeedback(this.redis, this.store, job.result.model.name, perf);
    const precision = perf.tp + perf.fp ? perf.tp / (perf.tp + perf.fp) : 0;
    const recall = perf.tp + perf.fn ? perf.tp / (perf.tp + perf.fn) : 0;
    return { id, tp: perf.tp, fp: perf.fp, fn: perf.fn, precision, recall, f1: perf.f1 };
  }

  private get store() {
    return { prefix: this.config.redis.prefix, ...this.config.monitoring };
  }

  private async model(name?: string) {
    const model = name ?? (await this.rollout.state()).live;
    if (!this.rollout.registry.has(model)) throw new InvalidRequestError(`unknown model "${model}"`, 'UNKNOWN_MODEL');
    return model;
  }

  /** Freezes the profiles of jobs finished in [from, to) as the model's active reference. */
  async createReference(from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new InvalidRequestError('"from" must be before "to"');
    const model = await this.model(modelName);
    const buckets = await readBuckets(this.redis, this.store, model, from.getTime(), to.getTime());
    const profile = mergeProfiles(...buckets);
    if (profile.images === 0) throw new ConflictError(`no jobs of model "${model}" finished between ${from.toISOString()} and ${to.toISOString()}`);
    const ref = await saveReference(this.redis, this.config.redis.prefix, {
      model,
      source: { from: from.toISOString(), to: to.toISOString() },
      profile,
      chunks: chunkProfiles(buckets),
    });
    return { id: ref.id, count: profile.images, created_at: ref.created_at, model };
  }

  /** Open alarms and the history of openings and clearings, newest first. */
  async alarms() {
    const keys = monitorKeys(this.config.redis.prefix);
    const [states, history] = await Promise.all([this.redis.hgetall(keys.state), this.redis.lrange(keys.history, 0, 999)]);
    const open = Object.entries(states)
      .map(([metric, raw]) => ({ metric, ...(JSON.parse(raw) as { open: boolean; opened_at: string | null }) }))
      .filter((s) => s.open)
      .map((s) => ({ metric: s.metric, opened_at: s.opened_at }));
    return { open, history: history.map((h) => JSON.parse(h) as unknown) };
  }

  /** Drift of the window [from, to) against the active reference. */
  async drift(from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new InvalidRequestError('"from" must be before "to"');
    const model = await this.model(modelName);
    const [reference, buckets, f1Stream] = await Promise.all([
      activeReference(this.redis, this.config.redis.prefix, model),
      readBuckets(this.redis, this.store, model, from.getTime(), to.getTime()),
      readF1Stream(this.redis, this.config.redis.prefix, model, to.getTime()),
    ]);
    const window = mergeProfiles(...buckets);
    const base = { model, window: { from: from.toISOString(), to: to.toISOString(), count: window.images } };
    if (!reference) return { ...base, reference: null, status: 'insufficient_data' as const, dataset_drift: null, metrics: [] };
    const report = driftReport(reference, window, { minSamples: this.config.monitoring.minSamples, overrides: this.config.monitoring.overrides, f1Stream });
    return { ...base, reference: { id: reference.id, count: reference.profile.images, created_at: reference.created_at }, ...report };
  }
}
