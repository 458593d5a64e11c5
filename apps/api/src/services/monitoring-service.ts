import type { Config } from '@spotter/config';
import type { Rollout } from '@spotter/models';
import { binCount, chunkProfiles, driftReport, mergeProfiles, METRIC_BY_NAME, scoreImage, type Metric, type Reference } from '@spotter/monitoring';
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
    return this.driftAgainst(await this.deps.profiles.activeReference(model), model, from, to);
  }

  private async driftAgainst(reference: Reference | null, model: string, from: Date, to: Date) {
    const { profiles, config } = this.deps;
    const [buckets, f1Stream] = await Promise.all([profiles.buckets(model, from.getTime(), to.getTime()), profiles.f1Stream(model, to.getTime())]);
    const window = mergeProfiles(...buckets);
    const base = { model, window: { from: from.toISOString(), to: to.toISOString(), count: window.images } };
    if (!reference) return { ...base, reference: null, status: 'insufficient_data' as const, dataset_drift: null, metrics: [] };
    const report = driftReport(reference, window, { minSamples: config.monitoring.minSamples, overrides: config.monitoring.overrides, f1Stream });
    return { ...base, reference: { id: reference.id, count: reference.profile.images, created_at: reference.created_at }, ...report };
  }

  /** One binned metric's counts in the active reference and in the window [from, to), bin by bin. */
  async histogram(metricName: string, from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const metric = binnedMetric(metricName);
    const model = await this.model(modelName);
    const [reference, buckets] = await Promise.all([this.deps.profiles.activeReference(model), this.deps.profiles.buckets(model, from.getTime(), to.getTime())]);
    const empty = () => Array.from({ length: binCount(metric) }, () => 0);
    const window = mergeProfiles(...buckets);
    return {
      model,
      metric: metric.name,
      kind: metric.kind,
      type: metric.type,
      bins: binLabels(metric),
      ...(metric.type === 'numeric' ? { edges: metric.edges } : { categories: metric.categories }),
      reference: reference && { id: reference.id, created_at: reference.created_at, images: reference.profile.images, counts: reference.profile.bins[metric.name] ?? empty() },
      window: { from: from.toISOString(), to: to.toISOString(), images: window.images, counts: window.bins[metric.name] ?? empty() },
    };
  }

  /** A metric's drift score in `steps` consecutive sub-windows of [from, to), oldest first: the score over time. */
  async history(metricName: string, from: Date, to: Date, steps: number, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    if (!isKnownMetric(metricName)) throw new ValidationError(`unknown metric "${metricName}"`, 'UNKNOWN_METRIC');
    const model = await this.model(modelName);
    const reference = await this.deps.profiles.activeReference(model);
    const span = (to.getTime() - from.getTime()) / steps;
    const points = await Promise.all(
      Array.from({ length: steps }, async (_, i) => {
        const start = new Date(from.getTime() + Math.round(i * span));
        const end = new Date(from.getTime() + Math.round((i + 1) * span));
        const report = await this.driftAgainst(reference, model, start, end);
        const row = report.metrics.find((m) => m.name === metricName);
        return {
          from: start.toISOString(),
          to: end.toISOString(),
          count: report.window.count,
          score: row && row.status !== 'insufficient_data' ? row.score : null,
          p_value: row?.p_value ?? null,
          status: row?.status ?? 'insufficient_data',
          threshold: row && row.status !== 'insufficient_data' ? row.threshold : null,
        };
      }),
    );
    return { model, metric: metricName, reference: reference && { id: reference.id, created_at: reference.created_at }, points };
  }
}

// Metrics judged from late labels have no bins; every other one has fixed bins.
const PERFORMANCE_METRICS = ['precision', 'recall', 'f1', 'ap50', 'f1_page_hinkley'];
const isKnownMetric = (name: string) => METRIC_BY_NAME.has(name) || PERFORMANCE_METRICS.includes(name);

function binnedMetric(name: string): Metric {
  const metric = METRIC_BY_NAME.get(name);
  if (!metric) throw new ValidationError(`"${name}" is not a binned metric${PERFORMANCE_METRICS.includes(name) ? ' (it is judged from feedback)' : ''}`, 'UNKNOWN_METRIC');
  return metric;
}

const short = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 1000) / 1000));

/** A readable name for each bin: "< 16", "16–21", "≥ 8192"; categories as they are, then "other". */
function binLabels(metric: Metric): string[] {
  if (metric.type === 'categorical') return [...metric.categories, 'other'];
  const e = metric.edges;
  return [`< ${short(e[0]!)}`, ...e.slice(1).map((v, i) => `${short(e[i]!)}–${short(v)}`), `≥ ${short(e.at(-1)!)}`];
}
