/** A box in some pixel frame, with its class and score. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

export function iou(a: Candidate, b: Candidate): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

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
    if (same.some((k) => iou(k, c) > iouThreshold)) continue;
    same.push(c);
    keptByClass.set(c.classId, same);
    kept.push(c);
    if (kept.length >= maxKeep) break;
  }
  return kept;
}
