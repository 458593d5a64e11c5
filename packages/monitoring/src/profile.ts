import { binCount, binOf, METRIC_BY_NAME, METRICS } from './metric-catalog.js';
import type { Observation } from './image-metrics.js';
import { addCounts, emptyCounts, type ImagePerformance, type PerformanceCounts } from './performance.js';

/** A slice's share of a profile: some per-box metrics, and the feedback of its boxes. */
export interface SliceProfile {
  bins: Record<string, number[]>;
  performance: PerformanceCounts;
}

/** Bin counts per metric over a set of images. Profiles merge by addition, exactly. */
export interface Profile {
  images: number;
  bins: Record<string, number[]>;
  /** Summed feedback: labelled images, matches, and TP/FP per score bin for AP50. */
  performance: PerformanceCounts;
  /**
   * The same, cut by the predicted box's class (`c<id>`) and by its COCO size (`small`,
   * `medium`, `large`); present only for slices that were seen.
   */
  slices: Record<string, SliceProfile>;
}

/**
 * Per-box output metrics kept per slice. By class: the score (class groups such as "rare"
 * are unions of classes, summed when asked; their class histogram is the profile's own); by
 * size: score and class. A box costs at most three more fields and profiles stay mergeable.
 * Per-class box areas were measured and left out: they doubled the slice fields (80 classes
 * x 25 bins) for little that the size slices do not show.
 */
export const CLASS_SLICE_METRICS = ['score'] as const;
export const SIZE_SLICE_METRICS = ['score', 'class'] as const;

/** Whether a field belongs to a slice (kept in a hash of its own, see ProfileStore). */
export const isSliceField = (field: string) => field.startsWith('@');

export function emptyProfile(): Profile {
  return {
    images: 0,
    bins: Object.fromEntries(METRICS.map((m) => [m.name, new Array<number>(binCount(m)).fill(0)])),
    performance: emptyCounts(),
    slices: {},
  };
}

const emptySlice = (): SliceProfile => ({ bins: {}, performance: emptyCounts() });

// Field names, the one encoding of a profile (Redis hash fields, in-process addition):
//   images | <metric>:<bin> | perf:(images|tp|fp|fn) | perf:(tpb|fpb):<score bin>
//   and per slice the same behind "@<slice>/": @c17/score:12, @small/perf:tp.
type Fields = Map<string, number>;
const bump = (out: Fields, field: string, n = 1) => out.set(field, (out.get(field) ?? 0) + n);
const valuesOf = (v: Observation[string] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The fields one image's observation adds to, with their increments. */
export function profileFields(obs: Observation): Fields {
  const out: Fields = new Map([['images', 1]]);
  for (const [name, value] of Object.entries(obs)) {
    const metric = METRIC_BY_NAME.get(name);
    if (metric) for (const v of valuesOf(value)) bump(out, `${name}:${binOf(metric, v)}`);
  }
  const classes = valuesOf(obs.class);
  const sizes = valuesOf(obs.box_size);
  classes.forEach((c, i) => {
    for (const name of CLASS_SLICE_METRICS) {
      const v = valuesOf(obs[name])[i];
      if (v !== undefined) bump(out, `@c${c}/${name}:${binOf(METRIC_BY_NAME.get(name)!, v)}`);
    }
    const size = sizes[i];
    if (size === undefined) return;
    for (const name of SIZE_SLICE_METRICS) {
      const v = valuesOf(obs[name])[i];
      if (v !== undefined) bump(out, `@${size}/${name}:${binOf(METRIC_BY_NAME.get(name)!, v)}`);
    }
  });
  return out;
}

/** The fields one image's feedback adds to (overall and per slice). */
export function feedbackFields(perf: ImagePerformance): Fields {
  const out: Fields = new Map();
  const put = (prefix: string, c: PerformanceCounts) => {
    for (const what of ['images', 'tp', 'fp', 'fn'] as const) if (c[what]) bump(out, `${prefix}perf:${what}`, c[what]);
    c.tpBins.forEach((v, i) => v && bump(out, `${prefix}perf:tpb:${i}`, v));
    c.fpBins.forEach((v, i) => v && bump(out, `${prefix}perf:fpb:${i}`, v));
  };
  put('', perf);
  for (const [key, c] of Object.entries(perf.slices)) put(`@${key}/`, c);
  return out;
}

/** Adds `n` to one field of a profile (the inverse of the encoding above). */
export function addField(p: Profile, field: string, n: number): void {
  if (field === 'images') {
    p.images += n;
    return;
  }
  let target: { bins: Record<string, number[]>; performance: PerformanceCounts } = p;
  let rest = field;
  if (field.startsWith('@')) {
    const slash = field.indexOf('/');
    if (slash < 0) return;
    target = p.slices[field.slice(1, slash)] ??= emptySlice();
    rest = field.slice(slash + 1);
  }
  if (rest.startsWith('perf:')) {
    const [, what, bin] = rest.split(':');
    const perf = target.performance;
    if (what === 'tpb' || what === 'fpb') {
      const bins = what === 'tpb' ? perf.tpBins : perf.fpBins;
      if (Number(bin) < bins.length) bins[Number(bin)]! += n;
    } else if (what === 'images' || what === 'tp' || what === 'fp' || what === 'fn') perf[what] += n;
    return;
  }
  const sep = rest.lastIndexOf(':');
  const metric = METRIC_BY_NAME.get(rest.slice(0, sep));
  const bin = Number(rest.slice(sep + 1));
  if (!metric || !(bin < binCount(metric))) return;
  const bins = (target.bins[metric.name] ??= new Array<number>(binCount(metric)).fill(0));
  bins[bin]! += n;
}

/** A profile from stored fields (a Redis hash). */
export function profileFromFields(h: Record<string, string>): Profile {
  const p = emptyProfile();
  for (const [field, v] of Object.entries(h)) addField(p, field, Number(v));
  return p;
}

export function addObservation(p: Profile, obs: Observation): Profile {
  for (const [field, n] of profileFields(obs)) addField(p, field, n);
  return p;
}

export function mergeProfiles(...profiles: Profile[]): Profile {
  const out = emptyProfile();
  const addBins = (into: Record<string, number[]>, from: Record<string, number[]>) => {
    for (const [name, counts] of Object.entries(from)) {
      const bins = (into[name] ??= new Array<number>(counts.length).fill(0));
      counts.forEach((c, i) => (bins[i]! += c));
    }
  };
  for (const p of profiles) {
    out.images += p.images;
    addBins(out.bins, p.bins);
    addCounts(out.performance, p.performance);
    for (const [key, s] of Object.entries(p.slices ?? {})) {
      const into = (out.slices[key] ??= emptySlice());
      addBins(into.bins, s.bins);
      addCounts(into.performance, s.performance);
    }
  }
  return out;
}
