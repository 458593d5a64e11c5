import { describe, expect, it } from 'vitest';
import type { MetricDrift } from '@spotter/monitoring';
import { GUARD_DEFAULTS, guardSettings, isDriftCheckpoint, judgeGuards, type GuardEvidence } from './rollout-guards.js';

const guards = guardSettings({ canaryMinJobs: 20, canaryMaxFailureGap: 0.05 });
const row = (name: string, status: MetricDrift['status']): MetricDrift => ({ name, kind: 'output', test: 'ks', score: 0.5, p_value: 0.001, threshold: { warn: 0.05, alarm: 0.01, source: 'fixed' }, status, samples: 100 });
const canary = (over: Partial<GuardEvidence> = {}): GuardEvidence => ({ mode: 'canary', candidate: { jobs: 20, failed: 0 }, live: { jobs: 80, failed: 0 }, shadow: null, outputs: null, ...over });
const shadow = (s: Partial<NonNullable<GuardEvidence['shadow']>>, over: Partial<GuardEvidence> = {}): GuardEvidence => ({
  mode: 'shadow',
  candidate: { jobs: 20, failed: 0 },
  live: { jobs: 200, failed: 0 },
  shadow: { jobs: 20, live_boxes: 100, matched: 95, class_flips: 1, score_delta_sum: 2, ...s },
  outputs: null,
  ...over,
});
const statusOf = (e: GuardEvidence) => Object.fromEntries(judgeGuards(guards, e).map((v) => [v.guard, v.status]));
const firstFailure = (e: GuardEvidence) => judgeGuards(guards, e).find((v) => v.status === 'fail');

describe('rollout guards', () => {
  it('take their defaults from the configuration and the request', () => {
    expect(guards).toEqual({ min_jobs: 20, max_failure_gap: 0.05, ...GUARD_DEFAULTS });
    expect(guardSettings({ canaryMinJobs: 20, canaryMaxFailureGap: 0.05 }, { min_agreement: 0.9, min_jobs: 5 })).toMatchObject({ min_agreement: 0.9, min_jobs: 5, max_failure_gap: 0.05 });
  });

  it('do nothing before the minimum sample, however bad the evidence', () => {
    const e = canary({ candidate: { jobs: 19, failed: 19 }, outputs: { rows: ['score', 'empty', 'detections_025'].map((n) => row(n, 'alarm')), candidateImages: 19, liveImages: 80 } });
    expect(statusOf(e)).toMatchObject({ failure_ratio: 'insufficient_data', output_drift: 'insufficient_data' });
    expect(firstFailure(e)).toBeUndefined();
  });

  it('roll a canary back when it fails more often than live beyond the gap', () => {
    expect(firstFailure(canary({ candidate: { jobs: 20, failed: 1 }, live: { jobs: 80, failed: 0 } }))).toBeUndefined(); // gap 0.05: not beyond
    const v = firstFailure(canary({ candidate: { jobs: 20, failed: 2 }, live: { jobs: 80, failed: 0 } }))!;
    expect(v).toMatchObject({ guard: 'failure_ratio', value: 0.1, threshold: 0.05 });
    expect(v.reason).toBe('failure ratio 0.100 over 20 jobs vs live 0.000: gap 0.100 > max_failure_gap 0.05');
  });

  it('judge the failure gap from 0 while live has fewer jobs than the minimum sample', () => {
    // A canary at a large share: live's 1 failure in 3 jobs would have forgiven the candidate's 30 %.
    const v = firstFailure(canary({ candidate: { jobs: 20, failed: 6 }, live: { jobs: 3, failed: 1 } }))!;
    expect(v).toMatchObject({ guard: 'failure_ratio', value: 0.3 });
    expect(v.reason).toBe('failure ratio 0.300 over 20 jobs vs 0 (live has 3 of 20 jobs): gap 0.300 > max_failure_gap 0.05');
    expect(firstFailure(canary({ candidate: { jobs: 20, failed: 6 }, live: { jobs: 20, failed: 6 } }))).toBeUndefined();
  });

  it('judge agreement only for shadows: a canary answers other images', () => {
    expect(statusOf(canary())).toMatchObject({ agreement: 'not_applicable', class_flips: 'not_applicable', score_shift: 'not_applicable' });
    expect(statusOf(shadow({}))).toMatchObject({ agreement: 'pass', class_flips: 'pass', score_shift: 'pass' });
  });

  it('stop a shadow that misses live boxes, flips classes or shifts scores', () => {
    expect(firstFailure(shadow({ matched: 55 }))).toMatchObject({ guard: 'agreement', value: 0.55 });
    expect(firstFailure(shadow({ matched: 90, class_flips: 12 }))).toMatchObject({ guard: 'class_flips' });
    expect(firstFailure(shadow({ score_delta_sum: 15 }))).toMatchObject({ guard: 'score_shift' });
    // Shadow runs that fail count against the candidate like failed canary jobs.
    expect(firstFailure(shadow({}, { candidate: { jobs: 20, failed: 5 } }))).toMatchObject({ guard: 'failure_ratio' });
    expect(statusOf(shadow({ jobs: 10, matched: 10 }))).toMatchObject({ agreement: 'insufficient_data' });
  });

  it('roll back on output drift beyond the allowed number of drifted metrics, once both models have the sample', () => {
    const outputs = (alarms: number, candidateImages = 20) => ({
      rows: ['score', 'empty', 'detections_025', 'top1_score'].map((n, i) => row(n, i < alarms ? 'alarm' : 'warn')),
      candidateImages,
      liveImages: 40,
    });
    expect(statusOf(canary({ outputs: outputs(0) }))).toMatchObject({ output_drift: 'pass' });
    const v = firstFailure(canary({ outputs: outputs(2) }))!;
    expect(v).toMatchObject({ guard: 'output_drift', value: 2, threshold: 0 });
    expect(v.reason).toContain('score, empty');
    // A rollout that expects its outputs to move allows more.
    expect(judgeGuards({ ...guards, max_drifted_outputs: 2 }, canary({ outputs: outputs(2) })).find((x) => x.guard === 'output_drift')!.status).toBe('pass');
    expect(statusOf(canary({ outputs: outputs(4, 12) }))).toMatchObject({ output_drift: 'insufficient_data' });
    expect(statusOf(canary())).toMatchObject({ output_drift: 'not_measured' });
  });

  it('look at output drift at the minimum sample, then every quarter of it', () => {
    expect([19, 20, 21, 24, 25, 30].map((n) => isDriftCheckpoint(n, 20))).toEqual([false, true, false, false, true, true]);
    expect([1, 2, 3].map((n) => isDriftCheckpoint(n, 1))).toEqual([true, true, true]);
  });
});
