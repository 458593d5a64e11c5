import { benjaminiHochberg, chiSquareTest, jensenShannon, ksTest, p95Ratio, proportionZTest, wassersteinNormalized, type TestResult } from './drift-tests.js';
import { binCentres, METRICS, type Metric } from './metric-catalog.js';
import { pageHinkleyDrop, performanceOf } from './performance.js';
import type { Profile } from './profile.js';
import type { Reference } from './reference.js';

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
}

export interface DriftOptions {
  /** Fewer values than this in the window (or the reference): insufficient_data. */
  minSamples: number;
  /** Per-metric fixed thresholds from the operator's config file. */
  overrides?: Record<string, { warn: number; alarm: number }>;
  /** Labelled images a window needs before performance is judged. */
  minLabelled?: number;
  /** Per-image F1 of the window's feedback, in arrival order (Page-Hinkley). */
  f1Stream?: number[];
}

const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
// Evidently's rule: hypothesis tests for up to 1000 reference values, distances beyond.
const LARGE = 1000;

function runTest(metric: Metric, ref: number[], cur: number[]): TestResult {
  // Software timings are judged as operators do, by their p95, not by their whole shape
  // (which follows the load).
  if (metric.kind === 'software' && metric.type === 'numeric') return p95Ratio([...metric.edges, metric.edges.at(-1)! * 2], ref, cur);
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
 * Compares a window's profile with the reference, metric by metric: Evidently's choice of
 * test, Benjamini-Hochberg across the p-value tests, thresholds fixed, overridden, or
 * learned from the reference's chunks (mean + 2σ warn, + 3σ alarm, with ≥ 10 chunks).
 */
export function driftReport(reference: Reference, window: Profile, opts: DriftOptions) {
  const rows = METRICS.map((metric) => {
    const ref = reference.profile.bins[metric.name] ?? [];
    const cur = window.bins[metric.name] ?? [];
    return { metric, ref, cur, samples: total(cur), refSamples: total(ref) };
  });
  const results = rows.map((r) => (r.samples > 0 && r.refSamples > 0 ? runTest(r.metric, r.ref, r.cur) : null));
  const pIdx = results.flatMap((t, i) => (t && isPValue(t) && rows[i]!.samples >= opts.minSamples ? [i] : []));
  const adjusted = benjaminiHochberg(pIdx.map((i) => results[i]!.pValue!));
  const adjustedOf = new Map(pIdx.map((i, k) => [i, adjusted[k]!]));

  const metrics: MetricDrift[] = rows.map((r, i) => {
    const t = results[i];
    const override = opts.overrides?.[r.metric.name];
    if (!t || r.samples < opts.minSamples || r.refSamples < opts.minSamples) {
      return { name: r.metric.name, kind: r.metric.kind, test: t?.test ?? 'ks', score: t?.score ?? 0, p_value: t?.pValue ?? null, threshold: { warn: 0, alarm: 0, source: 'fixed' }, status: 'insufficient_data', samples: r.samples };
    }
    if (isPValue(t)) {
      const p = adjustedOf.get(i)!;
      const threshold = override ? { ...override, source: 'override' as const } : { warn: 0.05, alarm: 0.01, source: 'fixed' as const };
      const status: DriftStatus = p < threshold.alarm ? 'alarm' : p < threshold.warn ? 'warn' : 'ok';
      return { name: r.metric.name, kind: r.metric.kind, test: t.test, score: t.score, p_value: p, threshold, status, samples: r.samples };
    }
    let threshold: MetricDrift['threshold'] = t.test === 'p95_ratio' ? { warn: 1.5, alarm: 2, source: 'fixed' } : { warn: 0.1, alarm: 0.2, source: 'fixed' };
    if (override) threshold = { ...override, source: 'override' };
    else if (t.test !== 'p95_ratio' && reference.chunks.length >= 10) {
      const values = reference.chunks.map((c) => runTest(r.metric, r.ref, c.bins[r.metric.name] ?? []).score);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      threshold = { warn: mean + 2 * sd, alarm: mean + 3 * sd, source: 'adaptive' };
    }
    const status: DriftStatus = t.score >= threshold.alarm ? 'alarm' : t.score >= threshold.warn ? 'warn' : 'ok';
    return { name: r.metric.name, kind: r.metric.kind, test: t.test, score: t.score, p_value: null, threshold, status, samples: r.samples };
  });
  metrics.push(...performanceRows(reference, window, opts));
  const judged = metrics.filter((m) => m.status !== 'insufficient_data');
  const drifted = judged.filter((m) => m.status !== 'ok').length;
  const share = judged.length ? drifted / judged.length : 0;
  const status: DriftStatus =
    window.images < opts.minSamples || judged.length === 0
      ? 'insufficient_data'
      : judged.some((m) => m.status === 'alarm') || share >= 0.5
        ? 'alarm'
        : judged.some((m) => m.status === 'warn')
          ? 'warn'
          : 'ok';
  return { status, dataset_drift: { drifted, judged: judged.length, share: Math.round(share * 1000) / 1000 }, metrics };
}

/**
 * Concept drift from late labels: precision, recall, F1 and AP50 of the window against the
 * reference's labelled baseline (alarm below baseline − 0.2, warn below − 0.1; mean − 3σ /
 * − 2σ of the reference's labelled chunks when there are ten), and Page-Hinkley on per-image F1.
 */
function performanceRows(reference: Reference, window: Profile, opts: DriftOptions): MetricDrift[] {
  const min = opts.minLabelled ?? 20;
  const cur = window.performance;
  const base = reference.profile.performance;
  const enough = cur.images >= min && base.images >= min;
  const now = performanceOf(cur);
  const ref = performanceOf(base);
  const labelledChunks = reference.chunks.filter((c) => c.performance.images >= 5);
  const rows: MetricDrift[] = (['precision', 'recall', 'f1', 'ap50'] as const).map((name) => {
    let threshold: MetricDrift['threshold'] = { warn: ref[name] - 0.1, alarm: ref[name] - 0.2, source: 'fixed' };
    const override = opts.overrides?.[name];
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
  const stream = opts.f1Stream ?? [];
  const ph = pageHinkleyDrop(stream);
  rows.push({
    name: 'f1_page_hinkley',
    kind: 'performance',
    test: 'page_hinkley',
    score: ph.statistic,
    p_value: null,
    threshold: { warn: 2.5, alarm: 5, source: 'fixed' },
    status: stream.length < 30 ? 'insufficient_data' : ph.detectedAt !== null ? 'alarm' : ph.statistic >= 2.5 ? 'warn' : 'ok',
    samples: stream.length,
  });
  return rows;
}
