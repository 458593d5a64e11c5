import { describe, expect, it } from 'vitest';
import { driftReport, type EvaluationBaseline } from './drift-report.js';
import { outputMetrics, type Observation } from './image-metrics.js';
import { emptyCounts, scoreImage } from './performance.js';
import { addObservation, emptyProfile, feedbackFields, mergeProfiles, profileFields, profileFromFields, type Profile } from './profile.js';
import type { Reference } from './reference.js';
import { classGroups, parseSlice } from './slices.js';

const d = (class_id: number, score: number, size: number) => ({ label: '', class_id, score, box: { x1: 0, y1: 0, x2: size, y2: size } });

/** Images of 640x480 whose answers mix people (class 0, large), cars (2, medium) and a few toothbrushes (79, small). */
function observations(n: number, shift = 0): Observation[] {
  return Array.from({ length: n }, (_, i) => ({
    width: 640,
    height: 480,
    ...outputMetrics([d(0, 0.9 - shift - (i % 5) * 0.05, 200), d(2, 0.6 - (i % 4) * 0.05, 50), ...(i % 4 === 0 ? [d(79, 0.5 - shift, 20)] : [])], 640, 480),
  }));
}
const profileOf = (obs: Observation[]) => obs.reduce((p, o) => addObservation(p, o), emptyProfile());
const reference = (profile: Profile): Reference => ({ id: 'ref', model: 'm', created_at: '', source: { images: '/x' }, profile, chunks: [] });

describe('slice-keyed profiles', () => {
  it('count each box again under its class and its size, and stay mergeable and round-trip through fields', () => {
    const obs = observations(12);
    const one = profileOf(obs);
    expect(Object.keys(one.slices).sort()).toEqual(['c0', 'c2', 'c79', 'large', 'medium', 'small']);
    expect(one.slices.c79!.bins.score!.reduce((a, b) => a + b, 0)).toBe(3);
    expect(one.slices.small!.bins.class![79]).toBe(3);
    const parts = [0, 1, 2].map((w) => profileOf(obs.filter((_, i) => i % 3 === w)));
    expect(mergeProfiles(...parts)).toEqual(one);
    const fields: Record<string, string> = {};
    for (const o of obs) for (const [f, n] of profileFields(o)) fields[f] = String(Number(fields[f] ?? 0) + n);
    expect(profileFromFields(fields)).toEqual(one);
  });

  it('add feedback per slice through the same fields', () => {
    const perf = scoreImage([d(0, 0.9, 200), d(79, 0.4, 20)], [{ class_id: 0, box: { x1: 0, y1: 0, x2: 200, y2: 200 } }]);
    const fields = Object.fromEntries([...feedbackFields(perf)].map(([f, n]) => [f, String(n)]));
    const p = profileFromFields(fields);
    expect(p.performance).toMatchObject({ images: 1, tp: 1, fp: 1, fn: 0 });
    expect(p.slices.c79!.performance).toMatchObject({ images: 1, fp: 1 });
    expect(p.slices.large!.performance).toMatchObject({ tp: 1 });
  });
});

describe('sliced drift reports', () => {
  it('parses slice names', () => {
    expect(parseSlice('small')).toEqual({ kind: 'size', size: 'small' });
    expect(parseSlice('rare')).toEqual({ kind: 'classes', group: 'rare', classes: [] });
    expect(parseSlice('classes:3,1,3')).toEqual({ kind: 'classes', group: null, classes: [1, 3] });
    expect(parseSlice('tiny')).toBeNull();
    expect(parseSlice('classes:')).toBeNull();
  });

  it('calls the least seen classes rare, unseen ones included', () => {
    const { rare, common } = classGroups(profileOf(observations(40)));
    expect(common).toEqual([2]);
    expect(rare).toContain(79);
    expect(rare).toContain(5);
    expect(rare).not.toContain(0);
  });

  it('sees drift in the rare slice that the whole window dilutes', () => {
    const ref = reference(profileOf(observations(200)));
    // Only the toothbrushes change: their scores drop by 0.3.
    const window = profileOf(observations(200).map((o, i) => (i % 4 === 0 ? { ...o, ...outputMetrics([d(0, 0.9 - (i % 5) * 0.05, 200), d(2, 0.6 - (i % 4) * 0.05, 50), d(79, 0.2 + 0.01 * (i % 7), 20)], 640, 480), width: 640, height: 480 } : o)));
    const rare = driftReport(ref, window, { minSamples: 30, slice: parseSlice('classes:79')! });
    expect(rare.slice).toEqual({ name: 'classes:79', classes: [79] });
    expect(rare.metrics.map((m) => m.name)).toEqual(['score', 'class', 'box_share', 'precision', 'recall', 'f1', 'ap50']);
    // Boxes under 0.25 are not answers: the rare boxes vanish from the window.
    expect(rare.metrics.find((m) => m.name === 'box_share')!.status).toBe('alarm');
    const large = driftReport(ref, window, { minSamples: 30, slice: parseSlice('large')! });
    expect(large.metrics.find((m) => m.name === 'score')!.status).toBe('ok');
  });
});

describe('performance baselines', () => {
  const labelled = (images: number) => {
    const p = profileOf(observations(60));
    p.performance = { ...emptyCounts(), images, tp: 8 * images, fp: 2 * images, fn: 2 * images };
    p.performance.tpBins[18] = 8 * images;
    p.performance.fpBins[6] = 2 * images;
    return p;
  };
  const window = (tp: number, fp: number, fn: number) => {
    const p = profileOf(observations(60));
    p.performance = { ...emptyCounts(), images: 40, tp, fp, fn };
    p.performance.tpBins[18] = tp;
    p.performance.fpBins[6] = fp;
    return p;
  };
  const evaluation: EvaluationBaseline = { source: 'eval/report.json', counts: { ...emptyCounts(), images: 128, tp: 80, fp: 20, fn: 20 }, slices: {}, f1: new Array(128).fill(0.8) };
  evaluation.counts.tpBins[18] = 80;
  evaluation.counts.fpBins[6] = 20;
  const status = (r: ReturnType<typeof driftReport>, name: string) => r.metrics.find((m) => m.name === name)!.status;

  it("uses the reference's labels when it has enough", () => {
    const r = driftReport(reference(labelled(40)), window(320, 80, 80), { minSamples: 30, evaluation });
    expect(r.baseline).toBe('reference_labels');
    expect(status(r, 'f1')).toBe('ok');
  });

  it('falls back to the evaluation report when the reference has too few labels: good reads ok, bad alarms', () => {
    const ok = driftReport(reference(labelled(3)), window(320, 80, 80), { minSamples: 30, evaluation });
    expect(ok.baseline).toBe('evaluation_report');
    expect(ok.baseline_metrics).toMatchObject({ precision: 0.8, recall: 0.8, source: 'eval/report.json' });
    expect(status(ok, 'f1')).toBe('ok');
    const bad = driftReport(reference(labelled(3)), window(100, 300, 300), { minSamples: 30, evaluation });
    expect(status(bad, 'f1')).toBe('alarm');
  });

  it('says so when there is neither', () => {
    const r = driftReport(reference(labelled(3)), window(320, 80, 80), { minSamples: 30 });
    expect(r.baseline).toBeNull();
    expect(r.baseline_metrics).toBeNull();
    for (const name of ['precision', 'recall', 'f1', 'ap50']) expect(status(r, name)).toBe('insufficient_data');
  });

  it("warms Page-Hinkley up with the baseline's own values", () => {
    const feedback = { window: Array.from({ length: 40 }, (_, i) => ({ at: 1000 + i, value: 0.1 })), before: [] };
    const r = driftReport(reference(labelled(3)), window(100, 300, 300), { minSamples: 30, evaluation, feedback });
    const ph = r.metrics.find((m) => m.name === 'f1_page_hinkley')!;
    expect(ph.warmup).toEqual({ source: 'evaluation_report', values: 128 });
    expect(ph.status).toBe('alarm');
    expect(ph.fired_at![0]).toBe(new Date(ph.fired_at![0]!).toISOString());
  });
});
