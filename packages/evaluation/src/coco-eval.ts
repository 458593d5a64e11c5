/**
 * Bounding-box evaluation exactly as pycocotools' COCOeval computes it (iouType "bbox"):
 * IoU thresholds .50:.05:.95, 101 recall points, area ranges all/small/medium/large,
 * maxDets 1/10/100, crowd regions, greedy matching by score, stable sorts. Arrays are laid
 * out as COCOeval's: precision[T][R][K][A][M], recall[T][K][A][M], -1 where undefined.
 */

/** Boxes are [x, y, width, height] in pixels, as in COCO JSON. */
export type XYWH = [number, number, number, number];

export interface GroundTruth {
  id: number; // > 0
  imageId: number;
  categoryId: number;
  bbox: XYWH;
  /** COCO uses the segmentation area; datasets without masks use the box area. */
  area: number;
  iscrowd: boolean;
}

export interface Prediction {
  imageId: number;
  categoryId: number;
  bbox: XYWH;
  score: number;
}

/** numpy.linspace(start, stop, num), bit for bit: COCOeval's thresholds come from it (0.6000000000000001). */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

export const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS = linspace(0, 1, 101);
export const MAX_DETS = [1, 10, 100] as const;
export const AREA_RANGES = {
  all: [0, 1e10],
  small: [0, 32 ** 2],
  medium: [32 ** 2, 96 ** 2],
  large: [96 ** 2, 1e10],
} as const;
export type AreaName = keyof typeof AREA_RANGES;
const AREAS = Object.keys(AREA_RANGES) as AreaName[];

/** IoU of a detection with a ground truth box; against a crowd region, intersection / detection area. */
export function bboxIou(d: XYWH, g: XYWH, crowd: boolean): number {
  const w = Math.min(d[0] + d[2], g[0] + g[2]) - Math.max(d[0], g[0]);
  const h = Math.min(d[1] + d[3], g[1] + g[3]) - Math.max(d[1], g[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = crowd ? d[2] * d[3] : d[2] * d[3] + g[2] * g[3] - inter;
  return inter / union;
}

/** Indices sorting `keys` ascending, ties kept in input order (numpy's mergesort). */
function stableOrder(n: number, key: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
}

/** One image x category x area range x maxDet evaluation (COCOeval.evaluateImg). */
export interface ImageEval {
  imageId: number;
  categoryId: number;
  dtScores: number[];
  /** [T][D]: id of the matched ground truth, 0 when unmatched. */
  dtMatches: number[][];
  dtIgnore: boolean[][];
  /** Per ground truth (sorted, non-ignored first). */
  gtIgnore: boolean[];
  gtIds: number[];
  /** [T][G]: id-less flag, matched or not (for error analysis). */
  gtMatched: boolean[][];
  dtIndex: number[];
}

function evaluateImg(gts: GroundTruth[], dts: Prediction[], areaRng: readonly [number, number], maxDet: number, dtArea: (d: Prediction) => number): ImageEval | null {
  if (gts.length === 0 && dts.length === 0) return null;
  const ignoreFlag = gts.map((g) => g.iscrowd || g.area < areaRng[0] || g.area > areaRng[1]);
  const gOrder = stableOrder(gts.length, (i) => (ignoreFlag[i] ? 1 : 0));
  const g = gOrder.map((i) => gts[i]!);
  const gtIg = gOrder.map((i) => ignoreFlag[i]!);
  const dOrder = stableOrder(dts.length, (i) => -dts[i]!.score).slice(0, maxDet);
  const d = dOrder.map((i) => dts[i]!);
  const T = IOU_THRESHOLDS.length;
  const gtm = IOU_THRESHOLDS.map(() => new Array<number>(g.length).fill(0));
  const dtm = IOU_THRESHOLDS.map(() => new Array<number>(d.length).fill(0));
  const dtIg = IOU_THRESHOLDS.map(() => new Array<boolean>(d.length).fill(false));
  const ious = d.map((dd) => g.map((gg) => bboxIou(dd.bbox, gg.bbox, gg.iscrowd)));
  if (g.length > 0) {
    for (let t = 0; t < T; t++) {
      for (let di = 0; di < d.length; di++) {
        let iou = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
        let m = -1;
        for (let gi = 0; gi < g.length; gi++) {
          // Already matched, and not a crowd: skip.
          if (gtm[t]![gi]! > 0 && !g[gi]!.iscrowd) continue;
          // Matched a regular gt already and reached the ignored ones: stop.
          if (m > -1 && !gtIg[m] && gtIg[gi]) break;
          if (ious[di]![gi]! < iou) continue;
          iou = ious[di]![gi]!;
          m = gi;
        }
        if (m === -1) continue;
        dtIg[t]![di] = gtIg[m]!;
        dtm[t]![di] = g[m]!.id;
        gtm[t]![m] = di + 1; // any non-zero marks the match
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (let t = 0; t < T; t++) {
    for (let di = 0; di < d.length; di++) {
      const a = dtArea(d[di]!);
      if (dtm[t]![di] === 0 && (a < areaRng[0] || a > areaRng[1])) dtIg[t]![di] = true;
    }
  }
  return {
    imageId: (g[0] ?? d[0])!.imageId,
    categoryId: (g[0] ?? d[0])!.categoryId,
    dtScores: d.map((x) => x.score),
    dtMatches: dtm,
    dtIgnore: dtIg,
    gtIgnore: gtIg,
    gtIds: g.map((x) => x.id),
    gtMatched: gtm.map((row) => row.map((v) => v > 0)),
    dtIndex: dOrder,
  };
}

export interface CocoEvalResult {
  imageIds: number[];
  categoryIds: number[];
  /** precision[t][r][k][a][m] */
  precision: number[][][][][];
  /** recall[t][k][a][m] */
  recall: number[][][][];
  /** Per (category, image) evaluation at area "all", maxDet 100; for error analysis. */
  evalImgs: Map<string, ImageEval>;
}

const key = (imageId: number, categoryId: number) => `${imageId}:${categoryId}`;

/**
 * COCOeval.evaluate() + accumulate() for boxes. `imageIds` and `categoryIds` are the
 * ground truth's (all images, all categories), as COCOeval takes them.
 */
export function evaluate(gts: GroundTruth[], preds: Prediction[], imageIds: number[], categoryIds: number[]): CocoEvalResult {
  const imgs = [...new Set(imageIds)].sort((a, b) => a - b);
  const cats = [...new Set(categoryIds)].sort((a, b) => a - b);
  const gtBy = new Map<string, GroundTruth[]>();
  const dtBy = new Map<string, Prediction[]>();
  for (const g of gts) gtBy.set(key(g.imageId, g.categoryId), [...(gtBy.get(key(g.imageId, g.categoryId)) ?? []), g]);
  for (const d of preds) dtBy.set(key(d.imageId, d.categoryId), [...(dtBy.get(key(d.imageId, d.categoryId)) ?? []), d]);
  const maxDetAll = MAX_DETS[MAX_DETS.length - 1]!;
  const dtArea = (d: Prediction) => d.bbox[2] * d.bbox[3];

  // evaluateImg for every category, area range, image, at the largest maxDet.
  const E: (ImageEval | null)[][][] = cats.map((c) =>
    AREAS.map((a) => imgs.map((i) => evaluateImg(gtBy.get(key(i, c)) ?? [], dtBy.get(key(i, c)) ?? [], AREA_RANGES[a], maxDetAll, dtArea))),
  );

  const T = IOU_THRESHOLDS.length;
  const R = RECALL_THRESHOLDS.length;
  const K = cats.length;
  const A = AREAS.length;
  const M = MAX_DETS.length;
  const precision = Array.from({ length: T }, () => Array.from({ length: R }, () => Array.from({ length: K }, () => Array.from({ length: A }, () => new Array<number>(M).fill(-1)))));
  const recall = Array.from({ length: T }, () => Array.from({ length: K }, () => Array.from({ length: A }, () => new Array<number>(M).fill(-1))));

  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const evals = E[k]![a]!.filter((e): e is ImageEval => e !== null);
      if (evals.length === 0) continue;
      for (let m = 0; m < M; m++) {
        const maxDet = MAX_DETS[m]!;
        const scores: number[] = [];
        const matched: number[][] = IOU_THRESHOLDS.map(() => []);
        const ignored: boolean[][] = IOU_THRESHOLDS.map(() => []);
        let npig = 0;
        for (const e of evals) {
          const n = Math.min(maxDet, e.dtScores.length);
          scores.push(...e.dtScores.slice(0, n));
          for (let t = 0; t < T; t++) {
            matched[t]!.push(...e.dtMatches[t]!.slice(0, n));
            ignored[t]!.push(...e.dtIgnore[t]!.slice(0, n));
          }
          npig += e.gtIgnore.filter((x) => !x).length;
        }
        if (npig === 0) continue;
        const order = stableOrder(scores.length, (i) => -scores[i]!);
        for (let t = 0; t < T; t++) {
          const tp: number[] = [];
          const fp: number[] = [];
          let tpSum = 0;
          let fpSum = 0;
          for (const i of order) {
            const ig = ignored[t]![i]!;
            const isMatch = matched[t]![i]! !== 0;
            if (isMatch && !ig) tpSum++;
            if (!isMatch && !ig) fpSum++;
            tp.push(tpSum);
            fp.push(fpSum);
          }
          const nd = tp.length;
          const rc = tp.map((x) => x / npig);
          const pr = tp.map((x, i) => x / (fp[i]! + x + Number.EPSILON));
          recall[t]![k]![a]![m] = nd ? rc[nd - 1]! : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          for (let r = 0; r < R; r++) {
            // searchsorted(rc, recThr, side='left'): first index with rc >= thr.
            const thr = RECALL_THRESHOLDS[r]!;
            let lo = 0;
            let hi = nd;
            while (lo < hi) {
              const mid = (lo + hi) >> 1;
              if (rc[mid]! < thr) lo = mid + 1;
              else hi = mid;
            }
            // Beyond the last recall reached, precision stays 0 (pycocotools' IndexError).
            precision[t]![r]![k]![a]![m] = lo < nd ? pr[lo]! : 0;
          }
        }
      }
    }
  }

  const evalImgs = new Map<string, ImageEval>();
  cats.forEach((_, k) => E[k]![0]!.forEach((e) => e && evalImgs.set(key(e.imageId, e.categoryId), e)));
  return { imageIds: imgs, categoryIds: cats, precision, recall, evalImgs };
}

const mean = (xs: number[]) => {
  const valid = xs.filter((x) => x > -1);
  return valid.length ? valid.reduce((s, x) => s + x, 0) / valid.length : -1;
};

/** The 12 numbers of COCOeval.summarize(), by name. */
export function summarize(r: CocoEvalResult) {
  const a = (name: AreaName) => AREAS.indexOf(name);
  const m = (n: number) => MAX_DETS.indexOf(n as (typeof MAX_DETS)[number]);
  const ap = (iou: number | null, area: AreaName, maxDet: number) => {
    const ts = iou === null ? IOU_THRESHOLDS.map((_, i) => i) : [IOU_THRESHOLDS.indexOf(iou)];
    return mean(ts.flatMap((t) => r.precision[t]!.flatMap((byR) => byR.map((byK) => byK[a(area)]![m(maxDet)]!))));
  };
  const ar = (area: AreaName, maxDet: number) => mean(r.recall.flatMap((byK) => byK.map((byA) => byA[a(area)]![m(maxDet)]!)));
  return {
    AP: ap(null, 'all', 100),
    AP50: ap(0.5, 'all', 100),
    AP75: ap(0.75, 'all', 100),
    APs: ap(null, 'small', 100),
    APm: ap(null, 'medium', 100),
    APl: ap(null, 'large', 100),
    AR1: ar('all', 1),
    AR10: ar('all', 10),
    AR100: ar('all', 100),
    ARs: ar('small', 100),
    ARm: ar('medium', 100),
    ARl: ar('large', 100),
  };
}

/** AP@[.5:.95] per category (area all, maxDet 100); -1 for categories without ground truth. */
export function perCategoryAp(r: CocoEvalResult): Map<number, number> {
  return new Map(
    r.categoryIds.map((c, k) => [c, mean(IOU_THRESHOLDS.flatMap((_, t) => r.precision[t]!.map((byR) => byR[k]![0]![MAX_DETS.length - 1]!)))]),
  );
}

/** Mean precision over classes at each of the 101 recall points (area all, maxDet 100), for one IoU threshold. */
export function precisionCurve(r: CocoEvalResult, iouIndex: number): number[] {
  return RECALL_THRESHOLDS.map((_, ri) => mean(r.precision[iouIndex]![ri]!.map((byA) => byA[0]![MAX_DETS.length - 1]!)));
}
