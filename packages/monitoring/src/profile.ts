import { binCount, binOf, METRIC_BY_NAME, METRICS } from './metric-catalog.js';
import type { Observation } from './image-metrics.js';

/** Bin counts per metric over a set of images. Profiles merge by addition, exactly. */
export interface Profile {
  images: number;
  bins: Record<string, number[]>;
}

export function emptyProfile(): Profile {
  return { images: 0, bins: Object.fromEntries(METRICS.map((m) => [m.name, new Array<number>(binCount(m)).fill(0)])) };
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
  }
  return out;
}
