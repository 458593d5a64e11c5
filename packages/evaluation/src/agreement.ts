import { boxIou as iou, type Detection } from '@spotter/shared';

export interface Agreement {
  live_boxes: number;
  candidate_boxes: number;
  /** Pairs overlapping at IoU >= the threshold, whatever their class (one-to-one, best IoU first). */
  matched: number;
  /** Matched pairs whose class differs. */
  class_flips: number;
  /** Sum of |score difference| over matched pairs of the same class. */
  score_delta_sum: number;
}

/** How far a candidate's boxes agree with the live model's on one image. */
export function compareDetections(live: readonly Detection[], candidate: readonly Detection[], threshold = 0.5): Agreement {
  const pairs: { i: number; j: number; v: number }[] = [];
  live.forEach((a, i) => candidate.forEach((b, j) => {
    const v = iou(a.box, b.box);
    if (v >= threshold) pairs.push({ i, j, v });
  }));
  pairs.sort((p, q) => q.v - p.v);
  const usedL = new Set<number>();
  const usedC = new Set<number>();
  const out: Agreement = { live_boxes: live.length, candidate_boxes: candidate.length, matched: 0, class_flips: 0, score_delta_sum: 0 };
  for (const { i, j } of pairs) {
    if (usedL.has(i) || usedC.has(j)) continue;
    usedL.add(i);
    usedC.add(j);
    out.matched++;
    if (live[i]!.class_id !== candidate[j]!.class_id) out.class_flips++;
    else out.score_delta_sum += Math.abs(live[i]!.score - candidate[j]!.score);
  }
  return out;
}
