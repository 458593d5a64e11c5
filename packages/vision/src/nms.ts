import { boxIou } from '@spotter/shared';

/** A box in some pixel frame, with its class and score. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

export { boxIou as iou } from '@spotter/shared';

/**
 * Class-wise greedy non-maximum suppression: a box is dropped when a higher-scoring box
 * of the same class overlaps it by more than `iouThreshold`. Returns at most `maxKeep`
 * boxes, best first.
 */
export function nonMaxSuppression(candidates: Candidate[], iouThreshold: number, maxKeep = 300): Candidate[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const keptByClass = new Map<number, Candidate[]>();
  const kept: Candidate[] = [];
  for (const c of sorted) {
    const same = keptByClass.get(c.classId) ?? [];
    if (same.some((k) => boxIou(k, c) > iouThreshold)) continue;
    same.push(c);
    keptByClass.set(c.classId, same);
    kept.push(c);
    if (kept.length >= maxKeep) break;
  }
  return kept;
}
