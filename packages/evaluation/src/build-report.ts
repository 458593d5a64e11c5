import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeToFit, drawDetections } from '@spotter/imaging';
import { addCounts, emptyCounts, performanceOf, pixelMetrics, scoreImage, type PerformanceCounts } from '@spotter/monitoring';
import { nonMaxSuppression } from '@spotter/vision';
import {
  evaluate,
  IOU_THRESHOLDS,
  perCategoryAp,
  precisionCurve,
  RECALL_THRESHOLDS,
  summarize,
  type GroundTruth,
  type Prediction,
} from './coco-eval.js';
import type { Dataset } from './datasets.js';
import { analyseErrors } from './error-analysis.js';

const round = (v: number) => Math.round(v * 10000) / 10000;

export interface SliceResult {
  slice: string;
  images: number;
  objects: number;
  ap: number;
  recall: number;
}

/** AP@[.5:.95] and AR@100 of a subset of images and/or classes. */
function sliceEval(name: string, gts: GroundTruth[], preds: Prediction[], imageIds: number[], categoryIds: number[]): SliceResult {
  const imgs = new Set(imageIds);
  const cats = new Set(categoryIds);
  const g = gts.filter((x) => imgs.has(x.imageId) && cats.has(x.categoryId));
  const p = preds.filter((x) => imgs.has(x.imageId) && cats.has(x.categoryId));
  const s = summarize(evaluate(g, p, imageIds, categoryIds));
  return { slice: name, images: imageIds.length, objects: g.filter((x) => !x.iscrowd).length, ap: round(s.AP), recall: round(s.AR100) };
}

/** Splits ids into thirds by a value (low, mid, high). */
function terciles<T>(items: T[], value: (t: T) => number): [T[], T[], T[]] {
  const sorted = [...items].sort((a, b) => value(a) - value(b));
  const n = sorted.length;
  return [sorted.slice(0, Math.round(n / 3)), sorted.slice(Math.round(n / 3), Math.round((2 * n) / 3)), sorted.slice(Math.round((2 * n) / 3))];
}

export interface ReportInput {
  dataset: Dataset;
  datasetPath: string;
  predictions: Prediction[];
  model: { name: string; version: string; path?: string } | { predictions: string };
  params: Record<string, unknown>;
  timing: { seconds: number; images_per_s: number } | null;
  /** Image file name -> user tags, for user-defined slices. */
  tags?: Record<string, string[]> | undefined;
  /** Score at which error analysis and the operating point count a prediction (the serving threshold). */
  operatingScore?: number;
  /** The model's serving NMS (manifest `nms_iou`, `max_detections`), re-applied for the operating point. */
  servingNms?: { iou: number; maxDetections: number };
  /** The model's input size: image metrics are measured on the same fitted pixels as in the workers. */
  inputSize?: number;
}

/** Every number of an evaluation: COCO metrics, per class, slices, error analysis, worst images. */
export async function buildReport(input: ReportInput) {
  const { dataset, predictions } = input;
  const imageIds = dataset.images.map((i) => i.id);
  const categoryIds = dataset.categories.map((c) => c.id);
  const result = evaluate(dataset.annotations, predictions, imageIds, categoryIds);
  const metrics = Object.fromEntries(Object.entries(summarize(result)).map(([k, v]) => [k, round(v)])) as Record<string, number>;
  const perCat = perCategoryAp(result);
  const gtCount = new Map<number, number>();
  for (const a of dataset.annotations) if (!a.iscrowd) gtCount.set(a.categoryId, (gtCount.get(a.categoryId) ?? 0) + 1);
  const perClass = result.categoryIds
    .map((id, k) => {
      const ap50s = result.precision[0]!.map((byK) => byK[k]![0]![2]!).filter((v) => v > -1);
      return {
        id,
        name: dataset.categories.find((c) => c.id === id)?.name ?? String(id),
        objects: gtCount.get(id) ?? 0,
        ap: round(perCat.get(id)!),
        ap50: ap50s.length ? round(ap50s.reduce((a, b) => a + b, 0) / ap50s.length) : -1,
      };
    })
    .filter((c) => c.objects > 0);

  // Slices: object size (COCO's area ranges), image brightness and sharpness as the monitoring
  // measures them, class rarity, user tags.
  const stats = new Map<number, ReturnType<typeof pixelMetrics>>();
  for (const img of dataset.images) {
    const fitted = await decodeToFit(await readFile(img.file), input.inputSize ?? 416, 4e8);
    stats.set(img.id, pixelMetrics(fitted.pixels, fitted.fitWidth, fitted.fitHeight));
  }
  const g = dataset.annotations;
  const all = imageIds;
  const slices: SliceResult[] = [
    { slice: 'size: small', images: all.length, objects: g.filter((a) => !a.iscrowd && a.area < 32 ** 2).length, ap: metrics.APs!, recall: metrics.ARs! },
    { slice: 'size: medium', images: all.length, objects: g.filter((a) => !a.iscrowd && a.area >= 32 ** 2 && a.area < 96 ** 2).length, ap: metrics.APm!, recall: metrics.ARm! },
    { slice: 'size: large', images: all.length, objects: g.filter((a) => !a.iscrowd && a.area >= 96 ** 2).length, ap: metrics.APl!, recall: metrics.ARl! },
  ];
  for (const [measure, labels] of [['brightness', ['dark', 'mid', 'bright']], ['sharpness', ['blurry', 'mid', 'sharp']]] as const) {
    terciles(all, (id) => stats.get(id)![measure]).forEach((ids, i) => slices.push(sliceEval(`${measure}: ${labels[i]}`, g, predictions, ids, categoryIds)));
  }
  const byFrequency = [...perClass].sort((a, b) => a.objects - b.objects);
  const third = Math.max(1, Math.round(byFrequency.length / 3));
  slices.push(sliceEval('classes: rare (least frequent third)', g, predictions, all, byFrequency.slice(0, third).map((c) => c.id)));
  slices.push(sliceEval('classes: common (most frequent third)', g, predictions, all, byFrequency.slice(-third).map((c) => c.id)));
  if (input.tags) {
    const byTag = new Map<string, number[]>();
    for (const img of dataset.images) for (const tag of input.tags[path.basename(img.file)] ?? []) byTag.set(tag, [...(byTag.get(tag) ?? []), img.id]);
    for (const [tag, ids] of [...byTag].sort()) slices.push(sliceEval(`tag: ${tag}`, g, predictions, ids, categoryIds));
  }

  const errors = analyseErrors(g, predictions, imageIds, input.operatingScore ?? 0.25);
  const operatingPoint = servingPerformance(dataset, predictions, input.operatingScore ?? 0.25, input.servingNms ?? { iou: 0.45, maxDetections: 300 });
  const fileOf = new Map(dataset.images.map((i) => [i.id, path.basename(i.file)]));
  const worst = [...errors.images]
    .map((e) => ({ ...e, file: fileOf.get(e.imageId)!, errors: e.fpLocalisation + e.fpClassConfusion + e.fpBackground + e.fnMissed + e.fnPoorlyLocalised }))
    .sort((a, b) => b.errors - a.errors || a.imageId - b.imageId)
    .slice(0, 6);

  return {
    dataset: { name: dataset.name, path: input.datasetPath, images: dataset.images.length, objects: dataset.annotations.length },
    model: input.model,
    params: { ...input.params, iou_thresholds: IOU_THRESHOLDS, recall_points: 101, max_dets: [1, 10, 100], predictions: predictions.length },
    metrics,
    per_class: perClass,
    pr_curves: [0.5, 0.75].map((iou) => ({ label: `IoU ${iou}`, recall: RECALL_THRESHOLDS, precision: precisionCurve(result, IOU_THRESHOLDS.indexOf(iou)).map(round) })),
    slices,
    operating_point: operatingPoint,
    errors: {
      score_threshold: errors.scoreThreshold,
      totals: errors.totals,
      confusion: errors.confusion.filter((c) => c.truth !== c.predicted),
      worst,
    },
    timing: input.timing,
  };
}
export type Report = Awaited<ReturnType<typeof buildReport>>;

/**
 * The model as it serves: predictions at or above the serving score, NMS again at the
 * manifest's IoU (evaluation keeps COCOeval's looser 0.65), scored per image exactly as
 * feedback is (monitoring's scoreImage: per class, greedy by score, IoU >= 0.5). Precision,
 * recall, F1 and AP50 here are what the monitoring compares a window's feedback with when
 * the reference has no labels; the counts are kept per class and per size for sliced reports.
 */
function servingPerformance(dataset: Dataset, predictions: Prediction[], score: number, nms: { iou: number; maxDetections: number }) {
  const byImage = new Map<number, Prediction[]>();
  for (const p of predictions) if (p.score >= score) byImage.set(p.imageId, [...(byImage.get(p.imageId) ?? []), p]);
  const truthOf = new Map<number, GroundTruth[]>();
  for (const a of dataset.annotations) if (!a.iscrowd) truthOf.set(a.imageId, [...(truthOf.get(a.imageId) ?? []), a]);
  const counts = emptyCounts();
  const slices: Record<string, PerformanceCounts> = {};
  const f1: number[] = [];
  for (const img of dataset.images) {
    const candidates = (byImage.get(img.id) ?? []).map((p) => ({ x1: p.bbox[0], y1: p.bbox[1], x2: p.bbox[0] + p.bbox[2], y2: p.bbox[1] + p.bbox[3], score: p.score, classId: p.categoryId }));
    const kept = nonMaxSuppression(candidates, nms.iou, nms.maxDetections).map((c) => ({ label: '', class_id: c.classId, score: c.score, box: { x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2 } }));
    const truth = (truthOf.get(img.id) ?? []).map((a) => ({ class_id: a.categoryId, box: { x1: a.bbox[0], y1: a.bbox[1], x2: a.bbox[0] + a.bbox[2], y2: a.bbox[1] + a.bbox[3] } }));
    const perf = scoreImage(kept, truth);
    addCounts(counts, perf);
    for (const [key, c] of Object.entries(perf.slices)) addCounts((slices[key] ??= emptyCounts()), c);
    f1.push(round(perf.f1));
  }
  const p = performanceOf(counts);
  return {
    score_threshold: score,
    nms_iou: nms.iou,
    max_detections: nms.maxDetections,
    match_iou: 0.5,
    images: counts.images,
    precision: round(p.precision),
    recall: round(p.recall),
    f1: round(p.f1),
    ap50: round(p.ap50),
    counts,
    slices,
    f1_per_image: f1,
  };
}

/** Every number of `current` against `baseline`, and the slices where the current is worse. */
export function compareReports(current: Report, baseline: Report, tolerance = 0.005) {
  const diff = Object.fromEntries(Object.entries(current.metrics).map(([k, v]) => [k, round(v - (baseline.metrics[k] ?? 0))])) as Record<string, number>;
  const worse: { slice: string; current: number; baseline: number; diff: number }[] = [];
  const check = (slice: string, cur: number, base: number | undefined) => {
    if (base === undefined || cur < 0 || base < 0) return;
    if (cur < base - tolerance) worse.push({ slice, current: cur, baseline: base, diff: round(cur - base) });
  };
  for (const [k, v] of Object.entries(current.metrics)) check(`metric: ${k}`, v, baseline.metrics[k]);
  for (const s of current.slices) check(`${s.slice} (AP)`, s.ap, baseline.slices.find((b) => b.slice === s.slice)?.ap);
  for (const c of current.per_class) check(`class: ${c.name} (AP)`, c.ap, baseline.per_class.find((b) => b.id === c.id)?.ap);
  return { model: baseline.model, metrics: baseline.metrics, diff, worse };
}

/** Truth (left, green labels "gt") and predictions (right) of one image, as a JPEG. */
export async function renderSideBySide(file: string, truth: GroundTruth[], preds: Prediction[], names: Map<number, string>, maxPixels = 4e7) {
  const bytes = await readFile(file);
  const asDetections = (xs: { categoryId: number; bbox: number[]; score?: number }[]) =>
    xs.map((x) => ({
      label: names.get(x.categoryId) ?? String(x.categoryId),
      class_id: x.categoryId,
      score: x.score ?? 1,
      box: { x1: x.bbox[0]!, y1: x.bbox[1]!, x2: x.bbox[0]! + x.bbox[2]!, y2: x.bbox[1]! + x.bbox[3]! },
    }));
  const [left, right] = await Promise.all([drawDetections(bytes, asDetections(truth), maxPixels), drawDetections(bytes, asDetections(preds), maxPixels)]);
  const { width = 0, height = 0 } = await sharp(left).metadata();
  return sharp({ create: { width: width * 2 + 8, height, channels: 3, background: '#ffffff' } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: width + 8, top: 0 }])
    .jpeg({ quality: 80 })
    .toBuffer();
}
