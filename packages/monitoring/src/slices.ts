import { METRIC_BY_NAME, SIZE_SLICES, type CategoricalMetric, type Metric, type SizeSlice } from './metric-catalog.js';
import { addCounts, emptyCounts, type PerformanceCounts } from './performance.js';
import { emptyProfile, type Profile } from './profile.js';

/** A cut of the drift report: boxes of one size, or boxes of some predicted classes. */
export type SliceSpec = { kind: 'size'; size: SizeSlice } | { kind: 'classes'; group: 'rare' | 'common' | null; classes: number[] };

/** `small|medium|large`, `rare|common`, or `classes:1,2,3`; null when the text is none of them. */
export function parseSlice(text: string): SliceSpec | null {
  if ((SIZE_SLICES as readonly string[]).includes(text)) return { kind: 'size', size: text as SizeSlice };
  if (text === 'rare' || text === 'common') return { kind: 'classes', group: text, classes: [] };
  const list = /^classes:(\d{1,3}(,\d{1,3})*)$/.exec(text);
  if (list) return { kind: 'classes', group: null, classes: [...new Set(list[1]!.split(',').map(Number))].sort((a, b) => a - b) };
  return null;
}

/**
 * Rare and common classes as the reference saw them (its predicted boxes per class): the
 * least frequent third of the classes it saw, with the classes it never saw, and the most
 * frequent third. The evaluation report cuts by truth counts instead; comparisons between
 * the two sum the report's per-class counts over these same classes.
 */
export function classGroups(reference: Profile): { rare: number[]; common: number[] } {
  const counts = reference.bins.class ?? [];
  const categories = (METRIC_BY_NAME.get('class') as CategoricalMetric).categories.length;
  const ids = Array.from({ length: categories }, (_, i) => i);
  const seen = ids.filter((i) => (counts[i] ?? 0) > 0).sort((a, b) => counts[a]! - counts[b]! || a - b);
  const third = Math.max(1, Math.round(seen.length / 3));
  const common = seen.slice(-third);
  const rare = [...ids.filter((i) => !(counts[i]! > 0)), ...seen.slice(0, Math.max(0, Math.min(third, seen.length - third)))];
  return { rare: rare.sort((a, b) => a - b), common: common.sort((a, b) => a - b) };
}

/** The slice with its classes resolved against the reference (class groups). */
export function resolveSlice(spec: SliceSpec, reference: Profile): { name: string; classes: number[] | null } {
  if (spec.kind === 'size') return { name: spec.size, classes: null };
  if (spec.group) return { name: spec.group, classes: classGroups(reference)[spec.group] };
  return { name: `classes:${spec.classes.join(',')}`, classes: spec.classes };
}

/**
 * A pseudo-metric for every slice: how many of the boxes fall into it, against all boxes
 * (a slice that becomes more or less frequent drifts even when its boxes look the same).
 */
export const BOX_SHARE: CategoricalMetric = { name: 'box_share', kind: 'output', type: 'categorical', categories: ['other', 'slice'] };

/** The metrics a sliced report tests (the same for both kinds of slice). */
export function sliceMetrics(): Metric[] {
  return [...['score', 'class'].map((n) => METRIC_BY_NAME.get(n)!), BOX_SHARE];
}

const sum = (xs: readonly number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0);

/**
 * The part of a profile that belongs to a slice, as a profile of its own: the slice's per-box
 * bins, `box_share`, and its feedback. For class slices the class histogram is the profile's,
 * restricted to the slice's classes.
 */
export function sliceProfile(p: Profile, slice: { name: string; classes: number[] | null }): Profile {
  const out = emptyProfile();
  out.images = p.images;
  out.bins = {};
  const keys = slice.classes ? slice.classes.map((c) => `c${c}`) : [slice.name];
  const performance: PerformanceCounts = emptyCounts();
  for (const key of keys) {
    const s = p.slices[key];
    if (!s) continue;
    for (const [name, counts] of Object.entries(s.bins)) {
      const bins = (out.bins[name] ??= new Array<number>(counts.length).fill(0));
      counts.forEach((c, i) => (bins[i]! += c));
    }
    addCounts(performance, s.performance);
  }
  if (slice.classes) {
    const all = p.bins.class ?? [];
    const mine = new Set(slice.classes);
    out.bins.class = all.map((c, i) => (mine.has(i) ? c : 0));
  }
  out.performance = performance;
  const inSlice = sum(out.bins.score);
  out.bins.box_share = [Math.max(0, sum(p.bins.score) - inSlice), inSlice];
  return out;
}

/** Per-slice counts (an evaluation report's) summed over a slice, the way `sliceProfile` sums a profile's. */
export function sliceCounts(slices: Record<string, PerformanceCounts>, slice: { name: string; classes: number[] | null }): PerformanceCounts {
  const keys = slice.classes ? slice.classes.map((c) => `c${c}`) : [slice.name];
  const out = emptyCounts();
  for (const key of keys) if (slices[key]) addCounts(out, slices[key]);
  return out;
}
