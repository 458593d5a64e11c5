import { benjaminiHochberg, chiSquareTest, jensenShannon, ksTest, proportionZTest, wassersteinNormalized, type TestResult } from './drift-tests.js';
import { binCentres, DRIFT_METRICS, METRICS, type Metric } from './metric-catalog.js';
import { PAGE_HINKLEY, pageHinkleyWindow, performanceOf, type PerformanceCounts } from './performance.js';
import type { Profile } from './profile.js';
import type { Reference } from './reference.js';
import { resolveSlice, sliceCounts, sliceMetrics, sliceProfile, type SliceSpec } from './slices.js';

export type DriftStatus = 'ok' | 'warn' | 'alarm' | 'insufficient_data';

export interface MetricDrift {
  name: string;
  kind: Metric['kind'] | 'performance';
  test: TestResult['test'] | 'performance_drop' | 'page_hinkley';
  score: number;
  p_value: number | null;
  /** For p-value tests, p below `warn`/`alarm`; for distances, score at or above them. */
  threshold: { warn: number; alarm: number; source: 'fixed' | 'adaptive' | 'override' };
  status: DriftStatus;
  samples: number;
  /** Page-Hinkley: when it fired in the window (the feedback's arrival times). */
  fired_at?: string[];
  /** Page-Hinkley: where its warm-up came from, and how many values it had. */
  warmup?: { source: WarmupSource | null; values: number };
}

/** Where the performance rows' baseline comes from. */
export type BaselineSource = 'reference_labels' | 'evaluation_report';
export type WarmupSource = BaselineSource | 'before_window';

/**
 * The live model's evaluation at its serving operating point (score threshold and NMS of its
 * manifest), as the evaluation report records it: the baseline of the performance rows when
 * the reference has too few labels.
 */
export interface EvaluationBaseline {
  /** Which report (the manifest's `eval_report`). */
  source: string;
  counts: PerformanceCounts;
  /** Per class (`c<id>`) and per COCO size, for sliced reports. */
  slices: Record<string, PerformanceCounts>;
  /** Per-image F1 of the evaluated images (Page-Hinkley's warm-up). */
  f1: number[];
}

export interface DriftOptions {
  /** Fewer values than this in the window (or the reference): insufficient_data. */
  minSamples: number;
  /** Per-metric fixed thresholds from the operator's config file. */
  overrides?: Record<string, { warn: number; alarm: number }> | undefined;
  /** Labelled images the window and the baseline need before performance is judged. */
  minLabelled?: number;
  /** The evaluation report's baseline, used when the reference has fewer than `minLabelled` labelled images. */
  evaluation?: EvaluationBaseline | null;
  /**
   * Per-image F1 of the feedback that arrived in the window (arrival time in ms, oldest
   * first), and the values that arrived just before it (a fallback warm-up).
   */
  feedback?: { window: { at: number; value: number }[]; before: number[] };
  /** Cut the report to one slice: output and performance metrics of its boxes only. */
  slice?: SliceSpec;
}

const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
// Evidently's rule: hypothesis tests for up to 1000 reference values, distances beyond.
const LARGE = 1000;

function runTest(metric: Metric, ref: number[], cur: number[]): TestResult {
  const n = total(ref);
  const unique = ref.filter((c) => c > 0).length;
  if (metric.type === 'numeric' && unique > 5) {
    return n <= LARGE ? ksTest(ref, cur) : wassersteinNormalized(binCentres(metric), ref, cur);
  }
  if (unique <= 2 && metric.type === 'categorical' && metric.categories.length === 2 && n <= LARGE) {
    return proportionZTest(ref[1]!, n, cur[1]!, total(cur));
  }
  return n <= LARGE ? chiSquareTest(ref, cur) : jensenShannon(ref, cur);
}

const isPValue = (t: TestResult) => t.pValue !== null;

/**
 * Metric by metric, `window` against `reference`: Evidently's choice of test,
 * Benjamini-Hochberg across the p-value tests of these metrics, thresholds fixed, overridden,
 * or learned from the reference's chunks (mean + 2σ warn, + 3σ alarm, with ≥ 10 chunks).
 */
function metricRows(
  metrics: readonly Metric[],
  reference: { profile: Profile; chunks: Profile[] },
  window: Profile,
  opts: Pick<DriftOptions, 'minSamples' | 'overrides'> & { pLevels?: { warn: number; alarm: number } },
): MetricDrift[] {
  const rows = metrics.map((metric) => {
    const ref = reference.profile.bins[metric.name] ?? [];
    const cur = window.bins[metric.name] ?? [];
    return { metric, ref, cur, samples: total(cur), refSamples: total(ref) };
  });
  const results = rows.map((r) => (r.samples > 0 && r.refSamples > 0 ? runTest(r.metric, r.ref, r.cur) : null));
  const pIdx = results.flatMap((t, i) => (t && isPValue(t) && rows[i]!.samples >= opts.minSamples ? [i] : []));
  const adjusted = benjaminiHochberg(pIdx.map((i) => results[i]!.pValue!));
  const adjustedOf = new Map(pIdx.map((i, k) => [i, adjusted[k]!]));
  return rows.map((r, i) => {
    const t = results[i];
    const override = opts.overrides?.[r.metric.name];
    if (!t || r.samples < opts.minSamples || r.refSamples < opts.minSamples) {
      return { name: r.metric.name, kind: r.metric.kind, test: t?.test ?? 'ks', score: t?.score ?? 0, p_value: t?.pValue ?? null, threshold: { warn: 0, alarm: 0, source: 'fixed' }, status: 'insufficient_data', samples: r.samples };
    }
    if (isPValue(t)) {
      const p = adjustedOf.get(i)!;
      const threshold = override ? { ...override, source: 'override' as const } : { ...(opts.pLevels ?? { warn: 0.05, alarm: 0.01 }), source: 'fixed' as const };
      const status: DriftStatus = p < threshold.alarm ? 'alarm' : p < threshold.warn ? 'warn' : 'ok';
      return { name: r.metric.name, kind: r.metric.kind, test: t.test, score: t.score, p_value: p, threshold, status, samples: r.samples };
    }
    let threshold: MetricDrift['threshold'] = { warn: 0.1, alarm: 0.2, source: 'fixed' };
    if (override) threshold = { ...override, source: 'override' };
    else if (reference.chunks.length >= 10) {
      const values = reference.chunks.map((c) => runTest(r.metric, r.ref, c.bins[r.metric.name] ?? []).score);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      threshold = { warn: mean + 2 * sd, alarm: mean + 3 * sd, source: 'adaptive' };
    }
    const status: DriftStatus = t.score >= threshold.alarm ? 'alarm' : t.score >= threshold.warn ? 'warn' : 'ok';
    return { name: r.metric.name, kind: r.metric.kind, test: t.test, score: t.score, p_value: null, threshold, status, samples: r.samples };
  });
}

/** The report's overall status: Evidently's dataset drift (share of drifted metrics >= 0.5) or any alarm. */
function summarize(metrics: MetricDrift[], images: number, minSamples: number) {
  const judged = metrics.filter((m) => m.status !== 'insufficient_data');
  const drifted = judged.filter((m) => m.status !== 'ok').length;
  const share = judged.length ? drifted / judged.length : 0;
  const status: DriftStatus =
    images < minSamples || judged.length === 0
      ? 'insufficient_data'
      : judged.some((m) => m.status === 'alarm') || share >= 0.5
        ? 'alarm'
        : judged.some((m) => m.status === 'warn')
          ? 'warn'
          : 'ok';
  return { status, dataset_drift: { drifted, judged: judged.length, share: Math.round(share * 1000) / 1000 } };
}

/**
 * Compares a window's profile with the reference: every metric of the catalog, then
 * performance from late labels against a baseline (the reference's labels, or the live
 * model's evaluation report when the reference has too few), and Page-Hinkley over the
 * window's feedback. With `slice`, only the slice's boxes: their output metrics, their share
 * of all boxes, and their performance.
 */
export function driftReport(reference: Reference, window: Profile, opts: DriftOptions) {
  const minLabelled = opts.minLabelled ?? 20;
  const fromLabels = reference.profile.performance.images >= minLabelled;
  const baseline: BaselineSource | null = fromLabels ? 'reference_labels' : opts.evaluation ? 'evaluation_report' : null;
  const slice = opts.slice ? resolveSlice(opts.slice, reference.profile) : null;

  const refView = slice ? { profile: sliceProfile(reference.profile, slice), chunks: reference.chunks.map((c) => sliceProfile(c, slice)) } : reference;
  const cur = slice ? sliceProfile(window, slice) : window;
  const metrics = metricRows(slice ? sliceMetrics() : DRIFT_METRICS, refView, cur, opts);

  let base: PerformanceCounts | null = null;
  if (baseline === 'reference_labels') base = refView.profile.performance;
  else if (baseline === 'evaluation_report') base = slice ? sliceCounts(opts.evaluation!.slices, slice) : opts.evaluation!.counts;
  const labelledChunks = baseline === 'reference_labels' ? refView.chunks.filter((c) => c.performance.images >= 5) : [];
  metrics.push(...performanceRows(base, labelledChunks, cur.performance, minLabelled, opts.overrides));
  if (!slice) metrics.push(pageHinkleyRow(reference, baseline, opts));

  return {
    ...summarize(metrics, window.images, opts.minSamples),
    baseline,
    baseline_metrics: base && { ...rounded(performanceOf(base)), labelled: base.images, source: baseline === 'evaluation_report' ? opts.evaluation!.source : reference.id },
    ...(slice ? { slice: { name: slice.name, classes: slice.classes } } : {}),
    metrics,
  };
}

const rounded = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10000) / 10000]));

/**
 * Concept drift from late labels: precision, recall, F1 and AP50 of the window against the
 * baseline (alarm below baseline − 0.2, warn below − 0.1; mean − 3σ / − 2σ of the reference's
 * labelled chunks when there are ten). Without a baseline: insufficient_data.
 */
function performanceRows(base: PerformanceCounts | null, labelledChunks: Profile[], cur: PerformanceCounts, minLabelled: number, overrides: DriftOptions['overrides']): MetricDrift[] {
  const enough = base !== null && cur.images >= minLabelled && base.images >= minLabelled;
  const now = performanceOf(cur);
  const ref = base ? performanceOf(base) : null;
  return (['precision', 'recall', 'f1', 'ap50'] as const).map((name) => {
    let threshold: MetricDrift['threshold'] = ref ? { warn: ref[name] - 0.1, alarm: ref[name] - 0.2, source: 'fixed' } : { warn: 0, alarm: 0, source: 'fixed' };
    const override = overrides?.[name];
    if (override) threshold = { ...override, source: 'override' };
    else if (labelledChunks.length >= 10) {
      const values = labelledChunks.map((c) => performanceOf(c.performance)[name]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      threshold = { warn: mean - 2 * sd, alarm: mean - 3 * sd, source: 'adaptive' };
    }
    const status: DriftStatus = !enough ? 'insufficient_data' : now[name] < threshold.alarm ? 'alarm' : now[name] < threshold.warn ? 'warn' : 'ok';
    return { name, kind: 'performance' as const, test: 'performance_drop' as const, score: now[name], p_value: null, threshold, status, samples: cur.images };
  });
}

/**
 * Page-Hinkley over the per-image F1 of the window's feedback, warmed up with the baseline's
 * own per-image values (the reference's labelled images, or the evaluated images), else
 * with the values that arrived just before the window.
 */
function pageHinkleyRow(reference: Reference, baseline: BaselineSource | null, opts: DriftOptions): MetricDrift {
  const values = opts.feedback?.window ?? [];
  let warmup: { source: WarmupSource | null; values: number[] } = { source: null, values: [] };
  if (baseline === 'reference_labels' && reference.f1?.length) warmup = { source: 'reference_labels', values: reference.f1 };
  else if (baseline === 'evaluation_report' && opts.evaluation?.f1.length) warmup = { source: 'evaluation_report', values: opts.evaluation.f1 };
  else if (opts.feedback?.before.length) warmup = { source: 'before_window', values: opts.feedback.before };
  const ph = pageHinkleyWindow(warmup.values, values);
  const t = PAGE_HINKLEY.threshold;
  return {
    name: 'f1_page_hinkley',
    kind: 'performance',
    test: 'page_hinkley',
    score: ph.peak,
    p_value: null,
    threshold: { warn: t / 2, alarm: t, source: 'fixed' },
    status: !ph.enough ? 'insufficient_data' : ph.fired.length ? 'alarm' : ph.peak >= t / 2 ? 'warn' : 'ok',
    samples: values.length,
    fired_at: ph.fired.map((at) => new Date(at).toISOString()),
    warmup: { source: warmup.source, values: warmup.values.length },
  };
}

/**
 * The rollout guards' level for hypothesis tests: a guard looks again every few jobs, and
 * each look is another chance for chance, so it asks for p < 0.001 (warn below 0.01) where a
 * monitoring window asks for 0.01. Distances (large live samples) keep their usual levels.
 */
export const GUARD_P_LEVELS = { warn: 0.01, alarm: 0.001 };

/**
 * The guards' output drift: a candidate's outputs against the live model's over the same
 * period, output metrics only (inputs are the same traffic by construction).
 */
export function outputDrift(live: Profile, candidate: Profile, opts: { minSamples: number }): MetricDrift[] {
  return metricRows(
    METRICS.filter((m) => m.kind === 'output'),
    { profile: live, chunks: [] },
    candidate,
    { ...opts, pLevels: GUARD_P_LEVELS },
  );
}
