import { greedyMatch, type Detection } from '@spotter/shared';
import { sizeSlice } from './metric-catalog.js';

/** A labelled box sent back by a client (POST /v1/jobs/{id}/feedback). */
export interface TruthBox {
  class_id: number;
  box: { x1: number; y1: number; x2: number; y2: number };
}

/** Score bins for the mergeable AP50 estimate. */
export const SCORE_BINS = 20;
const scoreBin = (s: number) => Math.min(SCORE_BINS - 1, Math.floor(s * SCORE_BINS));

/**
 * Matches of predictions against truth, summed over images: the mergeable unit of
 * performance (feedback windows, references, an evaluation report's operating point).
 */
export interface PerformanceCounts {
  /** Labelled images counted (for a slice: labelled images with a box of the slice). */
  images: number;
  tp: number;
  fp: number;
  fn: number;
  /** Per score bin: true and false positives (for AP50). */
  tpBins: number[];
  fpBins: number[];
}

export function emptyCounts(): PerformanceCounts {
  return { images: 0, tp: 0, fp: 0, fn: 0, tpBins: new Array<number>(SCORE_BINS).fill(0), fpBins: new Array<number>(SCORE_BINS).fill(0) };
}

/** Adds `from` into `into` (and returns it). */
export function addCounts(into: PerformanceCounts, from: PerformanceCounts): PerformanceCounts {
  into.images += from.images;
  into.tp += from.tp;
  into.fp += from.fp;
  into.fn += from.fn;
  from.tpBins.forEach((c, i) => (into.tpBins[i]! += c));
  from.fpBins.forEach((c, i) => (into.fpBins[i]! += c));
  return into;
}

/**
 * One image's matches: overall, and per slice (`c<class id>` and the COCO sizes `small`,
 * `medium`, `large`). A true positive and a miss take the size of the true box, a false
 * positive the size of the predicted one, as COCO's area ranges do.
 */
export interface ImagePerformance extends PerformanceCounts {
  f1: number;
  slices: Record<string, PerformanceCounts>;
}

const area = (b: TruthBox['box']) => (b.x2 - b.x1) * (b.y2 - b.y1);

/** Matches predictions to truth per class, greedily by score, at IoU >= 0.5. */
export function scoreImage(predictions: readonly Detection[], truth: readonly TruthBox[]): ImagePerformance {
  const { pairs, matchedA, matchedB } = greedyMatch(
    predictions.map((p) => ({ box: p.box, classId: p.class_id, score: p.score })),
    truth.map((t) => ({ box: t.box, classId: t.class_id })),
    { iou: 0.5, sameClass: true, order: 'score' },
  );
  const out: ImagePerformance = { ...emptyCounts(), images: 1, f1: 0, slices: {} };
  const slicesOf = (classId: number, box: TruthBox['box']) => [out, (out.slices[`c${classId}`] ??= { ...emptyCounts(), images: 1 }), (out.slices[sizeSlice(area(box))] ??= { ...emptyCounts(), images: 1 })];
  for (const { a, b } of pairs) {
    const p = predictions[a]!;
    for (const c of slicesOf(p.class_id, truth[b]!.box)) {
      c.tp++;
      c.tpBins[scoreBin(p.score)]!++;
    }
  }
  predictions.forEach((p, i) => {
    if (matchedA.has(i)) return;
    for (const c of slicesOf(p.class_id, p.box)) {
      c.fp++;
      c.fpBins[scoreBin(p.score)]!++;
    }
  });
  truth.forEach((t, j) => {
    if (!matchedB.has(j)) for (const c of slicesOf(t.class_id, t.box)) c.fn++;
  });
  out.f1 = out.tp + out.fp + out.fn === 0 ? 1 : (2 * out.tp) / (2 * out.tp + out.fp + out.fn);
  return out;
}

/** Precision, recall, F1 and AP50 (all-point interpolation over score bins) from summed counts. */
export function performanceOf(c: Pick<PerformanceCounts, 'tp' | 'fp' | 'fn' | 'tpBins' | 'fpBins'>) {
  const precision = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  const positives = c.tp + c.fn;
  let tp = 0;
  let fp = 0;
  const points: { r: number; p: number }[] = [];
  for (let b = SCORE_BINS - 1; b >= 0; b--) {
    tp += c.tpBins[b]!;
    fp += c.fpBins[b]!;
    if (tp + fp > 0) points.push({ r: positives ? tp / positives : 0, p: tp / (tp + fp) });
  }
  let ap = 0;
  let prevR = 0;
  for (let i = 0; i < points.length; i++) {
    const maxP = Math.max(...points.slice(i).map((x) => x.p));
    ap += (points[i]!.r - prevR) * maxP;
    prevR = points[i]!.r;
  }
  return { precision, recall, f1, ap50: ap };
}

/**
 * Page-Hinkley's parameters for per-image F1 (river's PageHinkley, mode "down"): river's
 * min_instances, delta and alpha; the threshold is 5, not river's 50, because F1 lives in
 * [0, 1] (a sustained drop of 0.5 per image crosses 5 after about ten images).
 */
export const PAGE_HINKLEY = { minInstances: 30, delta: 0.005, threshold: 5, alpha: 0.9999 };

/**
 * Page-Hinkley test for a drop in the mean, run over a window's values after a warm-up:
 * m_t = α·m_{t−1} + (x̄_t − x_t − δ) with a running mean x̄, an alarm when m_t − min(m) >
 * threshold after `minInstances` values. After an alarm the detector starts afresh (river
 * resets too), so a later window of good values does not inherit an old drop. Alarms in the
 * warm-up only reset it; `fired` lists the window's alarms by their values' timestamps.
 */
export function pageHinkleyWindow(warmup: readonly number[], window: readonly { at: number; value: number }[], opts = PAGE_HINKLEY) {
  let n = 0;
  let mean = 0;
  let sum = 0;
  let min = 0;
  let peak = 0;
  let statistic = 0;
  const fired: number[] = [];
  const step = (x: number): boolean => {
    n++;
    mean += (x - mean) / n;
    sum = opts.alpha * sum + (mean - x - opts.delta);
    min = Math.min(min, sum);
    statistic = sum - min;
    if (n >= opts.minInstances && statistic > opts.threshold) {
      n = 0;
      mean = 0;
      sum = 0;
      min = 0;
      return true;
    }
    return false;
  };
  for (const x of warmup) step(x);
  for (const { at, value } of window) {
    if (step(value)) fired.push(at);
    peak = Math.max(peak, statistic);
  }
  // `peak`: the largest statistic the window reached.
  return { peak, fired, warmup: warmup.length, samples: window.length, enough: window.length > 0 && warmup.length + window.length >= opts.minInstances };
}
