import { IMAGE_FORMATS } from '@spotter/shared';

/**
 * Every metric Spotter profiles per image, with fixed bins so that profiles from any
 * number of workers add up exactly. Numeric bins: `edges` are inner boundaries (values
 * below the first go to bin 0, at or above the last to the final bin).
 */
/** input and output describe the model's traffic (drift); service metrics are judged against objectives (service-health.ts). */
export type MetricKind = 'input' | 'output' | 'service';

export interface NumericMetric {
  name: string;
  kind: MetricKind;
  type: 'numeric';
  edges: number[];
  /** Values per image: one, or one per box. */
  perBox?: boolean;
}

export interface CategoricalMetric {
  name: string;
  kind: MetricKind;
  type: 'categorical';
  categories: string[];
  perBox?: boolean;
}

export type Metric = NumericMetric | CategoricalMetric;

const linear = (lo: number, hi: number, n: number) => Array.from({ length: n - 1 }, (_, i) => lo + ((hi - lo) * (i + 1)) / n);
const geometric = (lo: number, hi: number, n: number) => Array.from({ length: n - 1 }, (_, i) => lo * (hi / lo) ** ((i + 1) / n));
const rounded = (xs: number[]) => xs.map((x) => Math.round(x * 1e6) / 1e6);

// The order of IMAGE_FORMATS is the order of the bins: append new formats, never reorder.
export const FORMATS = Object.keys(IMAGE_FORMATS);
const COCO80 = Array.from({ length: 80 }, (_, i) => String(i));

export const METRICS: Metric[] = [
  { name: 'width', kind: 'input', type: 'numeric', edges: rounded(geometric(16, 8192, 24)) },
  { name: 'height', kind: 'input', type: 'numeric', edges: rounded(geometric(16, 8192, 24)) },
  { name: 'aspect_ratio', kind: 'input', type: 'numeric', edges: rounded(geometric(0.2, 5, 20)) },
  { name: 'file_bytes', kind: 'input', type: 'numeric', edges: rounded(geometric(1024, 32 * 1024 * 1024, 30)) },
  { name: 'format', kind: 'input', type: 'categorical', categories: FORMATS },
  { name: 'brightness', kind: 'input', type: 'numeric', edges: linear(0, 255, 32) },
  { name: 'contrast', kind: 'input', type: 'numeric', edges: linear(0, 128, 32) },
  { name: 'colourfulness', kind: 'input', type: 'numeric', edges: linear(0, 160, 32) },
  { name: 'grayscale', kind: 'input', type: 'categorical', categories: ['false', 'true'] },
  { name: 'sharpness', kind: 'input', type: 'numeric', edges: rounded(geometric(1, 20000, 32)) },
  { name: 'entropy', kind: 'input', type: 'numeric', edges: linear(0, 8, 32) },
  { name: 'jpeg_quality', kind: 'input', type: 'numeric', edges: linear(0, 100, 20) },
  { name: 'detections_025', kind: 'output', type: 'numeric', edges: [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 64, 100] },
  { name: 'detections_050', kind: 'output', type: 'numeric', edges: [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 64, 100] },
  { name: 'empty', kind: 'output', type: 'categorical', categories: ['false', 'true'] },
  { name: 'score', kind: 'output', type: 'numeric', edges: linear(0, 1, 20), perBox: true },
  { name: 'top1_score', kind: 'output', type: 'numeric', edges: linear(0, 1, 20) },
  { name: 'class', kind: 'output', type: 'categorical', categories: COCO80, perBox: true },
  { name: 'box_relative_area', kind: 'output', type: 'numeric', edges: rounded(geometric(1e-5, 1, 25)), perBox: true },
  { name: 'box_aspect', kind: 'output', type: 'numeric', edges: rounded(geometric(0.05, 20, 24)), perBox: true },
  { name: 'border_boxes', kind: 'output', type: 'numeric', edges: [1, 2, 3, 4, 6, 8, 12, 16] },
  { name: 'failed', kind: 'service', type: 'categorical', categories: ['false', 'true'] },
  { name: 'latency_seconds', kind: 'service', type: 'numeric', edges: rounded(geometric(0.005, 60, 30)) },
  { name: 'queue_seconds', kind: 'service', type: 'numeric', edges: rounded(geometric(0.001, 600, 30)) },
];

export const METRIC_BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

/** The metrics a drift report compares with the reference: the model's inputs and outputs. */
export const DRIFT_METRICS = METRICS.filter((m) => m.kind !== 'service');

/** The bin of a value. */
export function binOf(metric: Metric, value: number | string): number {
  if (metric.type === 'categorical') {
    const i = metric.categories.indexOf(String(value));
    return i >= 0 ? i : metric.categories.length; // one overflow bin for unknown categories
  }
  const v = Number(value);
  let lo = 0;
  let hi = metric.edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v < metric.edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const binCount = (metric: Metric) => (metric.type === 'categorical' ? metric.categories.length + 1 : metric.edges.length + 1);

/**
 * Object size slices, COCO's: area in pixels of the original image below 32², below 96²,
 * and above. The evaluation report's `size:` slices use the same ranges.
 */
export const SIZE_SLICES = ['small', 'medium', 'large'] as const;
export type SizeSlice = (typeof SIZE_SLICES)[number];

export function sizeSlice(areaPx: number): SizeSlice {
  return areaPx < 32 ** 2 ? 'small' : areaPx < 96 ** 2 ? 'medium' : 'large';
}

/** Representative value of each numeric bin (for Wasserstein): midpoints, ends extended by half a bin. */
export function binCentres(metric: NumericMetric): number[] {
  const e = metric.edges;
  const first = e[0]! - (e[1]! - e[0]!) / 2;
  const last = e.at(-1)! + (e.at(-1)! - e.at(-2)!) / 2;
  return [first, ...e.slice(1).map((v, i) => (v + e[i]!) / 2), last];
}
