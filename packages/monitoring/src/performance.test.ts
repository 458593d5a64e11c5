import { describe, expect, it } from 'vitest';
import { pageHinkleyDrop, performanceOf, scoreImage } from './performance.js';

const det = (class_id: number, score: number, x1: number) => ({ label: '', class_id, score, box: { x1, y1: 0, x2: x1 + 10, y2: 10 } });
const truth = (class_id: number, x1: number) => ({ class_id, box: { x1, y1: 0, x2: x1 + 10, y2: 10 } });

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

  it('Page-Hinkley flags a drop in F1 after it happens, not before', () => {
    const stable = Array.from({ length: 60 }, (_, i) => 0.7 + 0.05 * Math.sin(i));
    expect(pageHinkleyDrop(stable).detectedAt).toBeNull();
    const dropped = [...stable, ...Array.from({ length: 40 }, () => 0.1)];
    const { detectedAt } = pageHinkleyDrop(dropped);
    expect(detectedAt).not.toBeNull();
    expect(detectedAt!).toBeGreaterThanOrEqual(60);
    expect(detectedAt!).toBeLessThan(80);
  });
});
