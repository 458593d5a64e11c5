import type { Config } from '@spotter/config';
import type { Rollout } from '@spotter/models';
import {
  binCount,
  chunkProfiles,
  classGroups,
  driftReport,
  LABEL_METRICS,
  LABEL_REASONS,
  mergeProfiles,
  METRIC_BY_NAME,
  parseSlice,
  rankForLabelling,
  scoreImage,
  serviceHealth,
  isServiceMetric,
  type EvaluationBaseline,
  type Metric,
  type Reference,
  type SliceSpec,
} from '@spotter/monitoring';
import { ConflictError, imageHold, jobLinks, JobNotReadyError, ValidationError, type FeedbackBody } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { AlarmStore, JobStore, ProfileStore } from '@spotter/stores';
import type { JobService } from './job-service.js';

export interface MonitoringDeps {
  config: Config;
  profiles: ProfileStore;
  alarms: AlarmStore;
  rollout: Rollout;
  jobs: JobService;
  /** Every tenant's job records (labelling candidates are all tenants' traffic, for admins). */
  records: Pick<JobStore, 'many'>;
  storage: ObjectStorage;
}

/** Feedback values kept with a reference for Page-Hinkley's warm-up (the latest). */
const REFERENCE_F1_VALUES = 2000;

export type DriftResult = Awaited<ReturnType<MonitoringService['drift']>>;

/** Monitoring use cases: late labels, references frozen from served jobs, drift of a window (whole or sliced), alarms, what to label next. */
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
    if (!(await this.deps.rollout.registry.find(model).then(() => true, () => false))) throw new ValidationError(`unknown model "${model}"`, 'UNKNOWN_MODEL');
    return model;
  }

  /** Freezes the profiles of jobs finished in [from, to) as the model's active reference. */
  async createReference(from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const model = await this.model(modelName);
    const buckets = await this.deps.profiles.buckets(model, from.getTime(), to.getTime());
    const profile = mergeProfiles(...buckets);
    if (profile.images === 0) throw new ConflictError(`no jobs of model "${model}" finished between ${from.toISOString()} and ${to.toISOString()}`);
    // The window's labelled images, one F1 each, warm Page-Hinkley up in later windows.
    const f1 = (await this.deps.profiles.feedbackWindow(model, from.getTime(), to.getTime(), REFERENCE_F1_VALUES)).map((v) => v.value);
    const ref = await this.deps.profiles.saveReference({ model, source: { from: from.toISOString(), to: to.toISOString() }, profile, chunks: chunkProfiles(buckets), ...(f1.length ? { f1 } : {}) });
    return { id: ref.id, count: profile.images, created_at: ref.created_at, model };
  }

  /** Open alarms, the model's apart from the service's, how the scheduled evaluation went, and the history of openings and clearings, newest first. */
  async alarms() {
    const [states, history, evaluation] = await Promise.all([this.deps.alarms.states(), this.deps.alarms.history(), this.deps.alarms.evaluation()]);
    const open = Object.entries(states)
      .filter(([, s]) => s.open)
      .map(([metric, s]) => ({ metric, opened_at: s.opened_at }));
    return { open: open.filter((a) => !isServiceMetric(a.metric)), service: { open: open.filter((a) => isServiceMetric(a.metric)) }, evaluation, history };
  }

  /** Drift of the window [from, to) against the active reference; `slice` cuts it (rare, common, small, medium, large, classes:1,2). */
  async drift(from: Date, to: Date, modelName?: string, sliceName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const slice = sliceName === undefined ? undefined : parseSlice(sliceName);
    if (slice === null) throw new ValidationError(`unknown slice "${sliceName}": rare, common, small, medium, large or classes:<id>,<id>...`, 'UNKNOWN_SLICE');
    const model = await this.model(modelName);
    const [reference, evaluation] = await Promise.all([this.deps.profiles.activeReference(model), this.evaluation(model)]);
    return this.driftAgainst(reference, model, from, to, { evaluation, slice });
  }

  /** The live model's evaluation report as a performance baseline, when it has one with an operating point. */
  private evaluation(model: string): EvaluationBaseline | null {
    return this.deps.rollout.registry.evaluationBaseline(model);
  }

  private async driftAgainst(reference: Reference | null, model: string, from: Date, to: Date, ctx: { evaluation: EvaluationBaseline | null; slice?: SliceSpec | undefined }) {
    const { profiles, config } = this.deps;
    const [buckets, window, before] = await Promise.all([
      profiles.buckets(model, from.getTime(), to.getTime()),
      profiles.feedbackWindow(model, from.getTime(), to.getTime()),
      profiles.feedbackBefore(model, from.getTime()),
    ]);
    const profile = mergeProfiles(...buckets);
    const base = {
      model,
      window: { from: from.toISOString(), to: to.toISOString(), count: profile.images, labelled: profile.performance.images },
      // Judged against the operator's objectives, so it needs no reference.
      service: serviceHealth(profile, config.monitoring.objectives, config.monitoring.minSamples),
    };
    if (!reference) return { ...base, reference: null, status: 'insufficient_data' as const, dataset_drift: null, baseline: null, baseline_metrics: null, metrics: [] };
    const report = driftReport(reference, profile, {
      minSamples: config.monitoring.minSamples,
      overrides: config.monitoring.overrides,
      evaluation: ctx.evaluation,
      feedback: { window, before },
      ...(ctx.slice ? { slice: ctx.slice } : {}),
    });
    return { ...base, reference: { id: reference.id, count: reference.profile.images, labelled: reference.profile.performance.images, created_at: reference.created_at }, ...report };
  }

  /**
   * Up to `budget` served jobs of [from, to) most worth labelling, with why: the shadow
   * disagreed, the input sits far from the reference on a metric that drifts in the window,
   * a rare class was predicted, or the answer was unsure. Jobs already labelled, jobs whose
   * image is no longer held and jobs Redis forgot are left out; each job appears once.
   */
  async labeling(budget: number, from: Date, to: Date, modelName?: string) {
    if (!(from < to)) throw new ValidationError('"from" must be before "to"');
    const model = await this.model(modelName);
    const { profiles, config } = this.deps;
    const [reference, evaluation, { candidates, disagreements }] = await Promise.all([profiles.activeReference(model), this.evaluation(model), profiles.labelCandidates(model, from.getTime(), to.getTime())]);
    const drift = reference ? await this.driftAgainst(reference, model, from, to, { evaluation }) : null;
    const perImage = new Set(LABEL_METRICS.map((m) => m.name));
    const drifted = (drift?.metrics ?? []).filter((m) => perImage.has(m.name) && (m.status === 'warn' || m.status === 'alarm')).map((m) => m.name);
    const rare = reference ? classGroups(reference.profile).rare : [];
    const picks = rankForLabelling(candidates, disagreements, { reference: reference?.profile ?? null, drifted, rare });
    const items = [];
    for (let i = 0; i < picks.length && items.length < budget; i += 2 * budget) {
      const part = picks.slice(i, i + 2 * budget);
      const ids = part.map((p) => p.id);
      const [labelled, records] = await Promise.all([profiles.labelled(ids), this.deps.records.many(ids)]);
      for (const [k, pick] of part.entries()) {
        const record = records[k]?.record;
        if (items.length === budget || labelled.has(pick.id) || record?.job.status !== 'succeeded') continue;
        const image = imageHold(record.job, record.image_key, config.images.retention);
        if (!image.held) continue;
        items.push({ ...pick, owner: record.owner, finished_at: record.job.finished_at, image, links: jobLinks(pick.id, config.http.publicUrl) });
      }
    }
    items.sort((a, b) => LABEL_REASONS.indexOf(a.reason) - LABEL_REASONS.indexOf(b.reason) || b.score - a.score);
    return {
      model,
      window: { from: from.toISOString(), to: to.toISOString(), candidates: candidates.length },
      budget,
      reference: reference && { id: reference.id, created_at: reference.created_at },
      drifted_metrics: drifted,
      rare_classes: rare,
      items,
    };
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
    const [reference, evaluation] = await Promise.all([this.deps.profiles.activeReference(model), this.evaluation(model)]);
    const span = (to.getTime() - from.getTime()) / steps;
    const points = await Promise.all(
      Array.from({ length: steps }, async (_, i) => {
        const start = new Date(from.getTime() + Math.round(i * span));
        const end = new Date(from.getTime() + Math.round((i + 1) * span));
        const report = await this.driftAgainst(reference, model, start, end, { evaluation });
        const point = { from: start.toISOString(), to: end.toISOString(), count: report.window.count };
        if (isServiceMetric(metricName)) {
          // A service row's score over time is its burn rate against the objective.
          const row = report.service.metrics.find((m) => m.name === metricName)!;
          const judged = row.status !== 'insufficient_data';
          return { ...point, score: judged ? row.burn_rate : null, p_value: null, status: row.status, threshold: judged ? { ...report.service.thresholds.burn_rate, source: 'objective' as const } : null };
        }
        const row = report.metrics.find((m) => m.name === metricName);
        return {
          ...point,
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
