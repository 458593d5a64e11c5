import type { Agreement } from '@spotter/shared';
import type { Observation } from './image-metrics.js';
import { binOf, METRICS } from './metric-catalog.js';
import type { Profile } from './profile.js';

/** Per-image metrics whose bin a labelling candidate keeps (no per-box values, no timings). */
export const LABEL_METRICS = METRICS.filter((m) => !m.perBox && m.kind !== 'service');

/** What ranking a served job for labelling needs, kept small (about 150 bytes) and without pixels. */
export interface LabelCandidate {
  id: string;
  /** When the job finished (ms since the epoch). */
  t: number;
  /** Mean score of the answer's boxes (score >= 0.25); null for an empty answer. */
  c: number | null;
  /** Classes of the answer's boxes, once each. */
  k: number[];
  /** The bin of each of LABEL_METRICS, in order; -1 when not measured. */
  b: number[];
}

/** How far the live model's and a shadow candidate's answers on one job differ. */
export interface LabelDisagreement {
  id: string;
  candidate: string;
  /** Boxes both found (IoU >= 0.5, any class) over the larger of the two answers: 1 when they agree. */
  overlap: number;
  class_flips: number;
}

const list = (v: Observation[string] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The candidate entry of a succeeded job, from its monitoring observation; null when it has no answer. */
export function labelCandidate(id: string, finishedMs: number, obs: Observation): LabelCandidate | null {
  if (obs.empty === undefined) return null;
  const scores = list(obs.score).map(Number);
  return {
    id,
    t: finishedMs,
    c: scores.length ? r3(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
    k: [...new Set(list(obs.class).map(Number))].sort((a, b) => a - b),
    b: LABEL_METRICS.map((m) => (obs[m.name] === undefined || Array.isArray(obs[m.name]) ? -1 : binOf(m, obs[m.name] as number | string))),
  };
}

export function labelDisagreement(id: string, candidate: string, a: Pick<Agreement, 'live_boxes' | 'candidate_boxes' | 'matched' | 'class_flips'>): LabelDisagreement {
  const larger = Math.max(a.live_boxes, a.candidate_boxes);
  return { id, candidate, overlap: larger ? r3(a.matched / larger) : 1, class_flips: a.class_flips };
}

/** Why a job is worth labelling; the order is the answer's order. */
export const LABEL_REASONS = ['shadow_disagreement', 'drifted_input', 'rare_class', 'low_confidence'] as const;
export type LabelReason = (typeof LABEL_REASONS)[number];

export interface LabelContext {
  /** The active reference's profile (how usual an input or a class is), or null. */
  reference: Profile | null;
  /** Metrics of LABEL_METRICS that drift in the window (warn or alarm). */
  drifted: string[];
  /** Classes rare in the reference. */
  rare: number[];
}

export interface LabelPick {
  id: string;
  reason: LabelReason;
  /** How strongly the reason applies, 0..1 (higher first). */
  score: number;
  detail: Record<string, unknown>;
  /** Other reasons the job also has. */
  also: LabelReason[];
}

/** How unusual a share of a reference histogram is: −log10(share) / 4, so 1e-4 or less is 1, 10 % is 0.25. */
const surprise = (share: number) => Math.min(1, -Math.log10(Math.max(share, 1e-4)) / 4);
const shareOf = (bins: readonly number[] | undefined, bin: number) => {
  const total = (bins ?? []).reduce((a, b) => a + b, 0);
  return total ? (bins![bin] ?? 0) / total : 0;
};
/**
 * How much of the reference is at least as far out as `bin`: for a numeric metric the share
 * at or beyond it on its nearer side (a tail), for a categorical one the share of its category.
 * A tail, not the bin alone: a small reference leaves empty bins inside its range, and an
 * ordinary input landing in one is not far from anything.
 */
function tailShare(metric: (typeof LABEL_METRICS)[number], bins: readonly number[] | undefined, bin: number) {
  if (metric.type === 'categorical') return shareOf(bins, bin);
  const counts = bins ?? [];
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return 0;
  let below = 0;
  for (let k = 0; k <= bin; k++) below += counts[k] ?? 0;
  const above = total - below + (counts[bin] ?? 0);
  return Math.min(below, above) / total;
}
/** An input counts as far from the reference when less than this share of the reference is as far out. */
const FAR_SHARE = 0.05;

/**
 * Orders candidates for labelling: one list per reason, best first, then taken in turns
 * (shadow disagreement, drifted input, rare class, low confidence) so that a small budget
 * still covers every reason; each job once, under the first reason that picks it.
 */
export function rankForLabelling(candidates: readonly LabelCandidate[], disagreements: readonly LabelDisagreement[], ctx: LabelContext): LabelPick[] {
  type Entry = { id: string; score: number; detail: Record<string, unknown> };
  const lists: Record<LabelReason, Entry[]> = { shadow_disagreement: [], drifted_input: [], rare_class: [], low_confidence: [] };
  const byId = new Map(candidates.map((c) => [c.id, c]));
  for (const d of disagreements) {
    if (!byId.has(d.id) || (d.overlap >= 1 && d.class_flips === 0)) continue;
    lists.shadow_disagreement.push({ id: d.id, score: r3(Math.max(1 - d.overlap, d.class_flips ? 0.5 : 0)), detail: { candidate: d.candidate, overlap: d.overlap, class_flips: d.class_flips } });
  }
  const rare = new Set(ctx.rare);
  const classBins = ctx.reference?.bins.class;
  for (const c of candidates) {
    if (c.c !== null) lists.low_confidence.push({ id: c.id, score: r3(1 - c.c), detail: { mean_score: c.c } });
    const rareHere = c.k.filter((k) => rare.has(k));
    if (rareHere.length) {
      const score = Math.max(...rareHere.map((k) => surprise(shareOf(classBins, k))));
      lists.rare_class.push({ id: c.id, score: r3(score), detail: { classes: rareHere } });
    }
    if (!ctx.reference) continue;
    let far: Entry | null = null;
    let farOn = 0;
    for (const name of ctx.drifted) {
      const i = LABEL_METRICS.findIndex((m) => m.name === name);
      const bin = i >= 0 ? c.b[i]! : -1;
      if (bin < 0) continue;
      const share = tailShare(LABEL_METRICS[i]!, ctx.reference.bins[name], bin);
      if (share >= FAR_SHARE) continue;
      farOn++;
      if (!far || surprise(share) > far.score) far = { id: c.id, score: r3(surprise(share)), detail: { metric: name, reference_share: r3(share) } };
    }
    if (far) lists.drifted_input.push({ ...far, detail: { ...far.detail, far_on: farOn } });
  }
  // Ties (inputs beyond everything the reference holds all score 1) go to the input that is
  // far on more of the drifting metrics, then to the id, so that the order is reproducible.
  const farOn = (e: Entry) => (e.detail.far_on as number | undefined) ?? 0;
  for (const l of Object.values(lists)) l.sort((a, b) => b.score - a.score || farOn(b) - farOn(a) || a.id.localeCompare(b.id));

  const reasonsOf = new Map<string, LabelReason[]>();
  for (const reason of LABEL_REASONS) for (const e of lists[reason]) reasonsOf.set(e.id, [...(reasonsOf.get(e.id) ?? []), reason]);
  const taken = new Set<string>();
  const next = Object.fromEntries(LABEL_REASONS.map((r) => [r, 0])) as Record<LabelReason, number>;
  const out: LabelPick[] = [];
  for (let progress = true; progress; ) {
    progress = false;
    for (const reason of LABEL_REASONS) {
      const l = lists[reason];
      while (next[reason] < l.length && taken.has(l[next[reason]]!.id)) next[reason]++;
      const e = l[next[reason]];
      if (!e) continue;
      taken.add(e.id);
      out.push({ id: e.id, reason, score: e.score, detail: e.detail, also: reasonsOf.get(e.id)!.filter((r) => r !== reason) });
      progress = true;
    }
  }
  return out;
}
