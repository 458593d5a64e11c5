import { binCount, binOf, METRIC_BY_NAME, METRICS } from './metric-catalog.js';
import type { Observation } from './image-metrics.js';
import { SCORE_BINS } from './performance.js';

/** Bin counts per metric over a set of images. Profiles merge by addition, exactly. */
export interface Profile {
  images: number;
  bins: Record<string, number[]>;
  /** Summed feedback: labelled images, matches, and TP/FP per score bin for AP50. */
  performance: { images: number; tp: number; fp: number; fn: number; tpBins: number[]; fpBins: number[] };
}

export function emptyProfile(): Profile {
  return {
    images: 0,
    bins: Object.fromEntries(METRICS.map((m) => [m.name, new Array<number>(binCount(m)).fill(0)])),
    performance: { images: 0, tp: 0, fp: 0, fn: 0, tpBins: new Array<number>(SCORE_BINS).fill(0), fpBins: new Array<number>(SCORE_BINS).fill(0) },
  };
}

/** The (metric, bin) increments one image contributes. */
export function increments(obs: Observation): [string, number][] {
  const out: [string, number][] = [];
  for (const [name, value] of Object.entries(obs)) {
    const metric = METRIC_BY_NAME.get(name);
    if (!metric) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, binOf(metric, v)]);
  }
  return out;
}

export function addObservation(p: Profile, obs: Observation): Profile {
  p.images++;
  for (const [name, bin] of increments(obs)) p.bins[name]![bin]!++;
  return p;
}

export function mergeProfiles(...profiles: Profile[]): Profile {
  const out = emptyProfile();
  for (const p of profiles) {
    out.images += p.images;
    for (const [name, counts] of Object.entries(p.bins)) counts.forEach((c, i) => (out.bins[name]![i]! += c));
    const a = out.performance;
    const b = p.performance;
    a.images += b.images;
    a.tp += b.tp;
    a.fp += b.fp;
    a.fn += b.fn;
    b.tpBins.forEach((c, i) => (a.tpBins[i]! += c));
    b.fpBins.forEach((c, i) => (a.fpBins[i]! += c));
  }
  return out;
}
