import type { Config } from '@spotter/config';
import type { Rollout } from '@spotter/models';
import { chunkProfiles, driftReport, mergeProfiles, scoreImage } from '@spotter/monitoring';
import { ConflictError, JobNotReadyError, ValidationError, type FeedbackBody } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { AlarmStore, ProfileStore } from '@spotter/stores';
import type { JobService } from './job-service.js';

export interface MonitoringDeps {
  config: Config;
  profiles: ProfileStore;
  alarms: AlarmStore;
  rollout: Rollout;
  jobs: JobService;
  storage: ObjectStorage;
}

export type DriftResult = Awaited<ReturnType<MonitoringService['drift']>>;

/** Monitoring use cases: late labels, references frozen from served jobs, drift of a window, alarms. */
export class MonitoringService {
  constructor(private readonly deps: MonitoringDeps) {}

  /** Late labels for a succeeded job: scored against its answer, folded into the current window. */
  async feedback(owner: string, id: string, body: FeedbackBody) {
    const job = await this.deps.jobs.get(owner, id);
    if (job.status !== 'succeeded' || !job.result) throw new JobNotReadyError(`job ${id} is ${job.status}; feedback needs a succeeded job`);
    const perf = scoreImage(job.result.detections, body.boxes);
    // One feedback per job, so that retries do not count twice.
    if (!(await this.deps.profiles.recordFeedback(id, job.result.model.name, perf))) throw new ConflictError(`feedback for job ${id} was already recorded`);
    await this.deps.storage.put(storageKeys.feedback(id), Buffer.from(JSON.stringify({ id, received_at: new Date().toISOString(), ...body })), 'application/json');
    const precision = perf.tp + perf.fp ? perf.tp / (perf.tp + perf.fp) : 0;
    const recall = perf.tp + perf.fn ? perf.tp / (perf.tp + perf.fn) : 0;
    return { id, tp: perf.tp, fp: perf.fp, fn: perf.fn, precision, recall, f1: perf.f1 };
  }

  private async model(name?: string) {
    const model = name ?? (await this.deps.rollout.state()).live;
    if (!this.deps.rollout.registry.has(model)) throw new ValidationError(`unknown model "${model}"`, 'UNKNOWN_MODEL');
    return model;
  }

  /** Freezes the profiles of jobs finished in [from, to) as the model's active reference. */
  async createReference(from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const model = await this.model(modelName);
    const buckets = await this.deps.profiles.buckets(model, from.getTime(), to.getTime());
    const profile = mergeProfiles(...buckets);
    if (profile.images === 0) throw new ConflictError(`no jobs of model "${model}" finished between ${from.toISOString()} and ${to.toISOString()}`);
    const ref = await this.deps.profiles.saveReference({ model, source: { from: from.toISOString(), to: to.toISOString() }, profile, chunks: chunkProfiles(buckets) });
    return { id: ref.id, count: profile.images, created_at: ref.created_at, model };
  }

  /** Open alarms and the history of openings and clearings, newest first. */
  async alarms() {
    const [states, history] = await Promise.all([this.deps.alarms.states(), this.deps.alarms.history()]);
    const open = Object.entries(states)
      .filter(([, s]) => s.open)
      .map(([metric, s]) => ({ metric, opened_at: s.opened_at }));
    return { open, history };
  }

  /** Drift of the window [from, to) against the active reference. */
  async drift(from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const model = await this.model(modelName);
    const { profiles, config } = this.deps;
    const [reference, buckets, f1Stream] = await Promise.all([
      profiles.activeReference(model),
      profiles.buckets(model, from.getTime(), to.getTime()),
      profiles.f1Stream(model, to.getTime()),
    ]);
    const window = mergeProfiles(...buckets);
    const base = { model, window: { from: from.toISOString(), to: to.toISOString(), count: window.images } };
    if (!reference) return { ...base, reference: null, status: 'insufficient_data' as const, dataset_drift: null, metrics: [] };
    const report = driftReport(reference, window, { minSamples: config.monitoring.minSamples, overrides: config.monitoring.overrides, f1Stream });
    return { ...base, reference: { id: reference.id, count: reference.profile.images, created_at: reference.created_at }, ...report };
  }
}
