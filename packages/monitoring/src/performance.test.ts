import { describe, expect, it } from 'vitest';
import { PAGE_HINKLEY, pageHinkleyWindow, performanceOf, scoreImage } from './performance.js';

const det = (class_id: number, score: number, x1: number, size = 10) => ({ label: '', class_id, score, box: { x1, y1: 0, x2: x1 + size, y2: size } });
const truth = (class_id: number, x1: number, size = 10) => ({ class_id, box: { x1, y1: 0, x2: x1 + size, y2: size } });

describe('performance from feedback', () => {
  it('matches per class at IoU 0.5 and derives precision, recall, F1, AP50', () => {
    const img = scoreImage([det(0, 0.9, 0), det(1, 0.8, 20), det(0, 0.3, 50)], [truth(0, 0), truth(1, 22), truth(2, 80)]);
    expect({ tp: img.tp, fp: img.fp, fn: img.fn }).toEqual({ tp: 2, fp: 1, fn: 1 });
    expect(img.f1).toBeCloseTo(4 / 6, 12);
    const p = performanceOf(img);
    expect(p).toMatchObject({ precision: 2 / 3, recall: 2 / 3 });
    // PR points: (1/3, 1), (2/3, 1), (2/3, 2/3) -> AP = 2/3.
    expect(p.ap50).toBeCloseTo(2 / 3, 12);
  });

  it('cuts the matches by class and by COCO size: hits and misses by the true box, false alarms by the predicted one', () => {
    // A large true person found, a small true car missed, a medium predicted dog that is not there.
    const img = scoreImage([det(0, 0.9, 0, 200), det(16, 0.4, 500, 50)], [truth(0, 0, 200), truth(2, 300, 20)]);
    expect(img.slices.c0).toMatchObject({ images: 1, tp: 1, fp: 0, fn: 0 });
    expect(img.slices.c2).toMatchObject({ tp: 0, fn: 1 });
    expect(img.slices.c16).toMatchObject({ fp: 1 });
    expect(img.slices.large).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(img.slices.small).toMatchObject({ tp: 0, fp: 0, fn: 1 });
    expect(img.slices.medium).toMatchObject({ tp: 0, fp: 1, fn: 0 });
    expect(img.slices.medium!.fpBins[8]).toBe(1);
  });
});

describe('Page-Hinkley per window', () => {
  const good = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ at: from + i, value: 0.7 + 0.05 * Math.sin(i) }));
  const bad = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ at: from + i, value: 0.1 }));
  const warmup = good(60).map((v) => v.value);

  it('stays quiet on a stable stream', () => {
    const r = pageHinkleyWindow(warmup, good(60, 1000));
    expect(r.fired).toEqual([]);
    expect(r.peak).toBeLessThan(PAGE_HINKLEY.threshold / 2);
  });

  it('fires in the window where the drop happens, soon after it, at the value that crossed the threshold', () => {
    const r = pageHinkleyWindow(warmup, [...good(20, 1000), ...bad(40, 2000)]);
    expect(r.fired.length).toBeGreaterThanOrEqual(1);
    expect(r.fired[0]).toBeGreaterThanOrEqual(2000);
    expect(r.fired[0]).toBeLessThan(2015);
  });

  it('resets after firing: a later window of good values does not fire again', () => {
    // The drop sits in the warm-up (values just before the window): it only resets the detector.
    const before = [...warmup, ...bad(40, 0).map((v) => v.value)];
    expect(pageHinkleyWindow(before, good(60, 5000)).fired).toEqual([]);
    // Warmed up from the baseline instead, good values read as good as well.
    expect(pageHinkleyWindow(warmup, good(60, 5000)).fired).toEqual([]);
  });

  it('needs min_instances values, warm-up included, and at least one value in the window', () => {
    expect(pageHinkleyWindow([], bad(10, 0)).enough).toBe(false);
    expect(pageHinkleyWindow(warmup, []).enough).toBe(false);
    // Without a warm-up the first 30 values only learn the mean: a drop at the very start goes unseen.
    expect(pageHinkleyWindow([], bad(40, 0)).fired).toEqual([]);
  });
});
