/** Corners in pixels: the shape of every box Spotter handles. */
export interface Corners {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Intersection over union of two boxes given by their corners. */
export function boxIou(a: Corners, b: Corners): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** A box to match: where it is, its class, and (for predictions) its score. */
export interface MatchBox {
  box: Corners;
  classId: number;
  score?: number;
}

export interface MatchOptions {
  /** Smallest IoU that makes a pair. */
  iou: number;
  /** Pairs must share a class (detection metrics) or may differ (agreement, confusion). */
  sameClass: boolean;
  /**
   * `score`: predictions in descending score each take their best remaining partner
   * (COCO's greedy rule); `iou`: the globally best-overlapping pairs first.
   */
  order: 'score' | 'iou';
}

export interface Matching {
  /** Index pairs [prediction, other] with their IoU. */
  pairs: { a: number; b: number; iou: number }[];
  matchedA: Set<number>;
  matchedB: Set<number>;
}

/** One-to-one greedy matching of boxes `a` (predictions) to boxes `b` (truth, or another model's). */
export function greedyMatch(a: readonly MatchBox[], b: readonly MatchBox[], opts: MatchOptions): Matching {
  const out: Matching = { pairs: [], matchedA: new Set(), matchedB: new Set() };
  const take = (i: number, j: number, iou: number) => {
    out.pairs.push({ a: i, b: j, iou });
    out.matchedA.add(i);
    out.matchedB.add(j);
  };
  const allowed = (i: number, j: number) => !opts.sameClass || a[i]!.classId === b[j]!.classId;
  if (opts.order === 'score') {
    const order = a.map((_, i) => i).sort((i, j) => (a[j]!.score ?? 0) - (a[i]!.score ?? 0));
    for (const i of order) {
      let best = -1;
      let bestIou = opts.iou;
      b.forEach((t, j) => {
        if (out.matchedB.has(j) || !allowed(i, j)) return;
        const v = boxIou(a[i]!.box, t.box);
        if (v >= bestIou) {
          bestIou = v;
          best = j;
        }
      });
      if (best >= 0) take(i, best, bestIou);
    }
    return out;
  }
  const candidates: { a: number; b: number; iou: number }[] = [];
  a.forEach((p, i) =>
    b.forEach((t, j) => {
      if (!allowed(i, j)) return;
      const v = boxIou(p.box, t.box);
      if (v >= opts.iou) candidates.push({ a: i, b: j, iou: v });
    }),
  );
  candidates.sort((p, q) => q.iou - p.iou);
  for (const c of candidates) if (!out.matchedA.has(c.a) && !out.matchedB.has(c.b)) take(c.a, c.b, c.iou);
  return out;
}
