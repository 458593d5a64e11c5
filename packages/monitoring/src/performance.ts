import { greedyMatch, type Detection } from '@spotter/shared';

/** A labelled box sent back by a client (POST /v1/jobs/{id}/feedback). */
export interface TruthBox {
  class_id: number;
  box: { x1: number; y1: number; x2: number; y2: number };
}

/** Score bins for the mergeable AP50 estimate. */
export const SCORE_BINS = 20;
const scoreBin = (s: number) => Math.min(SCORE_BINS - 1, Math.floor(s * SCORE_BINS));

export interface ImagePerformance {
  tp: number;
  fp: number;
  fn: number;
  f1: number;
  /** Per score bin: true and false positives (for AP50). */
  tpBins: number[];
  fpBins: number[];
}

/** Matches predictions to truth per class, greedily by score, at IoU >= 0.5. */
export function scoreImage(predictions: readonly Detection[], truth: readonly TruthBox[]): ImagePerformance {
  const { matchedA } = greedyMatch(
    predictions.map((p) => ({ box: p.box, classId: p.class_id, score: p.score })),
    truth.map((t) => ({ box: t.box, classId: t.class_id })),
    { iou: 0.5, sameClass: true, order: 'score' },
  );
  const tpBins = new Array<number>(SCORE_BINS).fill(0);
  const fpBins = new Array<number>(SCORE_BINS).fill(0);
  predictions.forEach((p, i) => (matchedA.has(i) ? tpBins : fpBins)[scoreBin(p.score)]!++);
  const tp = matchedA.size;
  const fp = predictions.length - tp;
  const fn = truth.length - tp;
  const f1 = tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  return { tp, fp, fn, f1, tpBins, fpBins };
}

/** Precision, recall, F1 and AP50 (all-point interpolation over score bins) from summed counts. */
export function performanceOf(c: { tp: number; fp: number; fn: number; tpBins: number[]; fpBins: number[] }) {
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
 * Page-Hinkley test for a drop in the mean of a stream (river's PageHinkley, mode "down"):
 * m_t = Σ(x̄_t − x_t − δ) with a fading mean, alarm when m_t − min(m) > threshold after
 * `minInstances` values.
 */
export function pageHinkleyDrop(values: readonly number[], opts = { minInstances: 30, delta: 0.005, threshold: 5, alpha: 0.9999 }) {
  let mean = 0;
  let n = 0;
  let sum = 0;
  let min = 0;
  let statistic = 0;
  let detectedAt: number | null = null;
  values.forEach((x, i) => {
    n++;
    mean += (x - mean) / n;
    sum = opts.alpha * sum + (mean - x - opts.delta);
    min = Math.min(min, sum);
    statistic = sum - min;
    if (detectedAt === null && n >= opts.minInstances && statistic > opts.threshold) detectedAt = i;
  });
  return { statistic, detectedAt };
}
