import { describe, expect, it } from 'vitest';
import { outputMetrics } from './image-metrics.js';
import { LABEL_REASONS, labelCandidate, labelDisagreement, rankForLabelling, type LabelCandidate } from './labeling.js';
import { addObservation, emptyProfile } from './profile.js';

const d = (class_id: number, score: number) => ({ label: '', class_id, score, box: { x1: 0, y1: 0, x2: 50, y2: 50 } });
const obs = (brightness: number, dets: ReturnType<typeof d>[]) => ({ brightness, width: 640, height: 480, ...outputMetrics(dets, 640, 480) });

describe('labelling candidates', () => {
  it('keep the mean score, the classes and the per-image bins, in about 150 bytes', () => {
    const c = labelCandidate('0b5f3c8e-1d2a-4f6b-9c7d-8e9f0a1b2c3d', 1_700_000_000_000, obs(120, [d(0, 0.9), d(0, 0.5), d(3, 0.7)]))!;
    expect(c).toMatchObject({ c: 0.7, k: [0, 3] });
    expect(JSON.stringify(c).length).toBeLessThan(180);
    expect(labelCandidate('x', 0, { failed: 'true' })).toBeNull();
  });

  it('rank by reason in turns, each job once, best first within a reason', () => {
    const reference = emptyProfile();
    for (let i = 0; i < 100; i++) addObservation(reference, obs(120 + (i % 10), [d(0, 0.8), d(2, 0.7)]));
    const candidates: LabelCandidate[] = [
      labelCandidate('a', 1, obs(125, [d(0, 0.3)]))!, // least confident
      labelCandidate('b', 2, obs(20, [d(0, 0.9)]))!, // dark: far from the reference on a drifted metric
      labelCandidate('c', 3, obs(122, [d(79, 0.9)]))!, // a class the reference never saw
      labelCandidate('d', 4, obs(121, [d(0, 0.8), d(2, 0.8)]))!, // the shadow disagrees
      labelCandidate('e', 5, obs(126, [d(0, 0.6)]))!,
    ];
    const disagreements = [labelDisagreement('d', 'cand', { live_boxes: 2, candidate_boxes: 1, matched: 1, class_flips: 0 }), labelDisagreement('e', 'cand', { live_boxes: 1, candidate_boxes: 1, matched: 1, class_flips: 0 })];
    const picks = rankForLabelling(candidates, disagreements, { reference, drifted: ['brightness'], rare: [79] });
    expect(picks.slice(0, 4).map((p) => [p.id, p.reason])).toEqual([
      ['d', 'shadow_disagreement'],
      ['b', 'drifted_input'],
      ['c', 'rare_class'],
      ['a', 'low_confidence'],
    ]);
    expect(new Set(picks.map((p) => p.id)).size).toBe(picks.length);
    expect(picks.map((p) => p.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(picks.find((p) => p.id === 'b')!.detail).toMatchObject({ metric: 'brightness', reference_share: 0 });
    expect(picks.find((p) => p.id === 'c')!.also).toContain('low_confidence');
    expect(LABEL_REASONS.indexOf(picks[4]!.reason)).toBe(3);
  });

  it('call an input far only beyond the reference, not in an empty bin inside its range, and prefer one far on more metrics', () => {
    // Two clusters of brightness with nothing between them, one contrast.
    const reference = emptyProfile();
    for (let i = 0; i < 64; i++) addObservation(reference, { ...obs(i % 2 ? 60 : 200, [d(0, 0.8)]), contrast: 50 });
    const at = (id: string, brightness: number, contrast: number) => labelCandidate(id, 1, { ...obs(brightness, [d(0, 0.8)]), contrast })!;
    const picks = rankForLabelling([at('between', 130, 50), at('dark', 10, 50), at('dark-flat', 10, 5)], [], { reference, drifted: ['brightness', 'contrast'], rare: [] });
    const drifted = picks.filter((p) => p.reason === 'drifted_input');
    expect(drifted.map((p) => p.id)).toEqual(['dark-flat', 'dark']);
    expect(drifted[0]!.detail).toMatchObject({ reference_share: 0, far_on: 2 });
    expect(drifted[1]!.detail).toMatchObject({ metric: 'brightness', reference_share: 0, far_on: 1 });
  });
});
