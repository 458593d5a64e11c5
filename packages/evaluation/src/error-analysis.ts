import { greedyMatch } from '@spotter/shared';
import { bboxIou, type GroundTruth, type Prediction } from './coco-eval.js';

const corners = ([x, y, w, h]: readonly number[]) => ({ x1: x!, y1: y!, x2: x! + w!, y2: y! + h! });

/** Per-image outcome at one operating point (score threshold, IoU 0.5). */
export interface ImageErrors {
  imageId: number;
  tp: number;
  /** Right class, box off (0.1 <= IoU < 0.5 with an object of its class). */
  fpLocalisation: number;
  /** Box on an object (IoU >= 0.5) of another class. */
  fpClassConfusion: number;
  /** On nothing labelled. */
  fpBackground: number;
  /** No prediction of its class anywhere near it. */
  fnMissed: number;
  /** A prediction of its class overlapped it, but under IoU 0.5. */
  fnPoorlyLocalised: number;
}

export interface ConfusionCell {
  truth: number | 'background';
  predicted: number | 'background';
  count: number;
}

const TP_IOU = 0.5;
const NEAR_IOU = 0.1;

/**
 * Splits every image's errors into kinds, in the spirit of TIDE: greedy same-class matching
 * at IoU 0.5 by score, then each leftover prediction and object classified by overlap.
 * Also a confusion matrix (class-agnostic matching at IoU 0.5; misses and background boxes
 * in the 'background' row and column).
 */
export function analyseErrors(gts: GroundTruth[], preds: Prediction[], imageIds: number[], scoreThreshold: number) {
  const byImage = <T extends { imageId: number }>(xs: T[]) => {
    const m = new Map<number, T[]>();
    for (const x of xs) m.set(x.imageId, [...(m.get(x.imageId) ?? []), x]);
    return m;
  };
  const gtBy = byImage(gts.filter((g) => !g.iscrowd));
  const dtBy = byImage(preds.filter((p) => p.score >= scoreThreshold));
  const confusion = new Map<string, ConfusionCell>();
  const addCell = (truth: ConfusionCell['truth'], predicted: ConfusionCell['predicted']) => {
    const k = `${truth}|${predicted}`;
    const cell = confusion.get(k) ?? { truth, predicted, count: 0 };
    cell.count++;
    confusion.set(k, cell);
  };

  const images: ImageErrors[] = imageIds.map((imageId) => {
    const g = gtBy.get(imageId) ?? [];
    const d = [...(dtBy.get(imageId) ?? [])].sort((a, b) => b.score - a.score);
    const e: ImageErrors = { imageId, tp: 0, fpLocalisation: 0, fpClassConfusion: 0, fpBackground: 0, fnMissed: 0, fnPoorlyLocalised: 0 };
    const dBoxes = d.map((p) => ({ box: corners(p.bbox), classId: p.categoryId, score: p.score }));
    const gBoxes = g.map((t) => ({ box: corners(t.bbox), classId: t.categoryId }));
    const { matchedA: dMatched, matchedB: gMatched } = greedyMatch(dBoxes, gBoxes, { iou: TP_IOU, sameClass: true, order: 'score' });
    e.tp = dMatched.size;
    d.forEach((p, di) => {
      if (dMatched.has(di)) return;
      const sameClass = Math.max(0, ...g.filter((t) => t.categoryId === p.categoryId).map((t) => bboxIou(p.bbox, t.bbox, false)));
      const otherClass = Math.max(0, ...g.filter((t) => t.categoryId !== p.categoryId).map((t) => bboxIou(p.bbox, t.bbox, false)));
      if (sameClass >= NEAR_IOU) e.fpLocalisation++;
      else if (otherClass >= TP_IOU) e.fpClassConfusion++;
      else e.fpBackground++;
    });
    g.forEach((t, gi) => {
      if (gMatched.has(gi)) return;
      const near = d.some((p) => p.categoryId === t.categoryId && bboxIou(p.bbox, t.bbox, false) >= NEAR_IOU);
      if (near) e.fnPoorlyLocalised++;
      else e.fnMissed++;
    });
    // Confusion: class-agnostic greedy matching at IoU 0.5, best overlaps first.
    const confusionMatch = greedyMatch(dBoxes, gBoxes, { iou: TP_IOU, sameClass: false, order: 'iou' });
    for (const { a, b } of confusionMatch.pairs) addCell(g[b]!.categoryId, d[a]!.categoryId);
    const [cd, cg] = [confusionMatch.matchedA, confusionMatch.matchedB];
    g.forEach((t, gi) => cg.has(gi) || addCell(t.categoryId, 'background'));
    d.forEach((p, di) => cd.has(di) || addCell('background', p.categoryId));
    return e;
  });

  const totals = images.reduce(
    (acc, e) => {
      for (const k of Object.keys(acc) as (keyof typeof acc)[]) acc[k] += e[k];
      return acc;
    },
    { tp: 0, fpLocalisation: 0, fpClassConfusion: 0, fpBackground: 0, fnMissed: 0, fnPoorlyLocalised: 0 },
  );
  return { scoreThreshold, images, totals, confusion: [...confusion.values()].sort((a, b) => b.count - a.count) };
}
