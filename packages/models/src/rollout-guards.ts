import type { MetricDrift } from '@spotter/monitoring';
import type { RolloutGuards } from '@spotter/shared';

/** The configuration the guards' defaults come from (SPOTTER_CANARY_MIN_JOBS, SPOTTER_CANARY_MAX_FAILURE_GAP). */
export interface GuardPolicy {
  canaryMinJobs: number;
  canaryMaxFailureGap: number;
}

/**
 * Defaults of the guards that have no setting of their own. Agreement: a retrained model of
 * the same family finds nearly all of the live model's boxes; 0.7 lets a slightly different
 * operating point pass and stops a candidate that misses a third of them (the same model
 * behind a 0.5 score floor agrees at about 0.5). Class flips: one matched box in ten changing
 * class is far beyond what a retrain does. Score shift: 0.1 in mean |Δscore| of same-class
 * matches. Output drift: no output metric may drift at the guards' level (p < 0.001, see
 * GUARD_P_LEVELS), which a 0.5 score floor reaches within 20 jobs on COCO images (its score
 * distribution) while a second metric takes two to three times as long; a candidate expected
 * to change its outputs (a recalibration) gets a higher max_drifted_outputs in its request.
 */
export const GUARD_DEFAULTS = { min_agreement: 0.7, max_class_flip_rate: 0.1, max_score_shift: 0.1, max_drifted_outputs: 0 };

/** The guards of a new rollout: the configured defaults, then the request's overrides. */
export function guardSettings(policy: GuardPolicy, overrides: Partial<RolloutGuards> = {}): RolloutGuards {
  return { min_jobs: policy.canaryMinJobs, max_failure_gap: policy.canaryMaxFailureGap, ...GUARD_DEFAULTS, ...overrides };
}

/**
 * The output-drift guard reads profiles over the rollout's window, so it runs at checkpoints
 * of the candidate's judged count: at the minimum sample, then every quarter of it. Each count
 * is handed to exactly one process (a Redis increment), so every checkpoint is judged once.
 */
export function isDriftCheckpoint(judged: number, minJobs: number): boolean {
  return judged >= minJobs && (judged - minJobs) % Math.max(1, Math.ceil(minJobs / 4)) === 0;
}

/** What the guards judge a rollout on, read fresh each time. */
export interface GuardEvidence {
  mode: 'shadow' | 'canary';
  /** Canary: the candidate's final jobs since the start; shadow: its runs, failed ones included. */
  candidate: { jobs: number; failed: number };
  /** The live model's final jobs since the start. */
  live: { jobs: number; failed: number };
  /** Shadow agreement counters (null for a canary: candidate and live serve different images). */
  shadow: { jobs: number; live_boxes: number; matched: number; class_flips: number; score_delta_sum: number } | null;
  /** The candidate's output metrics against the live model's over the rollout's window; null when not read this time. */
  outputs: { rows: MetricDrift[]; candidateImages: number; liveImages: number } | null;
}

export type GuardName = 'failure_ratio' | 'agreement' | 'class_flips' | 'score_shift' | 'output_drift';

export interface GuardVerdict {
  guard: GuardName;
  /** fail stops the rollout; not_applicable: agreement guards on a canary; not_measured: output drift between checkpoints. */
  status: 'pass' | 'fail' | 'insufficient_data' | 'not_applicable' | 'not_measured';
  value: number | null;
  threshold: number;
  samples: number;
  min_samples: number;
  reason: string;
  detail?: Record<string, unknown>;
}

const f3 = (v: number) => v.toFixed(3);

/**
 * Judges a rollout on its evidence, guard by guard, in order: failure ratio, agreement,
 * class flips, score shift (shadows only: a canary's candidate and live model answer
 * different images, so there is nothing to match), and output drift. The first failing
 * verdict is the one that acts.
 */
export function judgeGuards(g: RolloutGuards, e: GuardEvidence): GuardVerdict[] {
  const unit = e.mode === 'canary' ? 'jobs' : 'shadow runs';
  const verdict = (guard: GuardName, samples: number, value: number | null, threshold: number, failed: (v: number) => boolean, describe: (v: number) => string): GuardVerdict => {
    if (value === null || samples < g.min_jobs) {
      return { guard, status: 'insufficient_data', value, threshold, samples, min_samples: g.min_jobs, reason: `${samples} of ${g.min_jobs} ${unit} needed` };
    }
    return { guard, status: failed(value) ? 'fail' : 'pass', value: Math.round(value * 10000) / 10000, threshold, samples, min_samples: g.min_jobs, reason: describe(value) };
  };
  const ratio = (o: { jobs: number; failed: number }) => (o.jobs ? o.failed / o.jobs : 0);
  const candRatio = ratio(e.candidate);
  // A live ratio over fewer jobs than the minimum sample is no excuse for the candidate's
  // failures (3 live jobs, 1 failed, would forgive a third): then the gap is taken from 0.
  const liveKnown = e.live.jobs >= g.min_jobs;
  const liveRatio = liveKnown ? ratio(e.live) : 0;
  const liveSays = liveKnown ? `live ${f3(liveRatio)}` : `0 (live has ${e.live.jobs} of ${g.min_jobs} jobs)`;
  const out: GuardVerdict[] = [
    verdict('failure_ratio', e.candidate.jobs, candRatio - liveRatio, g.max_failure_gap, (v) => v > g.max_failure_gap, (v) =>
      `failure ratio ${f3(candRatio)} over ${e.candidate.jobs} ${unit} vs ${liveSays}: gap ${f3(v)} ${v > g.max_failure_gap ? '>' : '<='} max_failure_gap ${g.max_failure_gap}`,
    ),
  ];
  const s = e.shadow;
  if (s) {
    const sameClass = s.matched - s.class_flips;
    out.push(
      verdict('agreement', s.jobs, s.live_boxes ? s.matched / s.live_boxes : null, g.min_agreement, (v) => v < g.min_agreement, (v) =>
        `agreement ${f3(v)} (${s.matched} of ${s.live_boxes} live boxes matched at IoU 0.5 over ${s.jobs} shadow runs) ${v < g.min_agreement ? '<' : '>='} min_agreement ${g.min_agreement}`,
      ),
      verdict('class_flips', s.jobs, s.matched ? s.class_flips / s.matched : null, g.max_class_flip_rate, (v) => v > g.max_class_flip_rate, (v) =>
        `class flip rate ${f3(v)} (${s.class_flips} of ${s.matched} matched boxes) ${v > g.max_class_flip_rate ? '>' : '<='} max_class_flip_rate ${g.max_class_flip_rate}`,
      ),
      verdict('score_shift', s.jobs, sameClass ? s.score_delta_sum / sameClass : null, g.max_score_shift, (v) => v > g.max_score_shift, (v) =>
        `mean |score difference| ${f3(v)} over ${sameClass} same-class matches ${v > g.max_score_shift ? '>' : '<='} max_score_shift ${g.max_score_shift}`,
      ),
    );
  } else {
    for (const guard of ['agreement', 'class_flips', 'score_shift'] as const) {
      out.push({ guard, status: 'not_applicable', value: null, threshold: 0, samples: 0, min_samples: g.min_jobs, reason: 'a canary serves different images than the live model: agreement is judged in shadow mode' });
    }
  }
  const o = e.outputs;
  if (!o) {
    out.push({ guard: 'output_drift', status: 'not_measured', value: null, threshold: g.max_drifted_outputs, samples: 0, min_samples: g.min_jobs, reason: 'judged at checkpoints of the minimum sample' });
  } else {
    const drifted = o.rows.filter((r) => r.status === 'alarm');
    const v = verdict('output_drift', Math.min(o.candidateImages, o.liveImages), drifted.length, g.max_drifted_outputs, (n) => n > g.max_drifted_outputs, (n) =>
      `${n} output metric(s) drifted at alarm level against the live model (${drifted.map((r) => r.name).join(', ') || 'none'}; ${o.candidateImages} candidate and ${o.liveImages} live images) ${n > g.max_drifted_outputs ? '>' : '<='} max_drifted_outputs ${g.max_drifted_outputs}`,
    );
    if (v.status === 'insufficient_data') v.reason = `${o.candidateImages} candidate and ${o.liveImages} live images answered; ${g.min_jobs} of each needed`;
    v.detail = { metrics: o.rows.map((r) => ({ name: r.name, status: r.status, test: r.test, score: Math.round(r.score * 10000) / 10000, p_value: r.p_value })) };
    out.push(v);
  }
  return out;
}
