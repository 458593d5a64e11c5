import { describe, expect, it } from 'vitest';
import { iou, nonMaxSuppression, type Candidate } from './nms.js';

const box = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({ x1, y1, x2, y2, score, classId });

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint ones, and the area ratio in between', () => {
    expect(iou(box(0, 0, 10, 10, 1), box(0, 0, 10, 10, 1))).toBe(1);
    expect(iou(box(0, 0, 10, 10, 1), box(10, 10, 20, 20, 1))).toBe(0);
    expect(iou(box(0, 0, 10, 10, 1), box(5, 0, 15, 10, 1))).toBeCloseTo(50 / 150);
  });
});

describe('class-wise NMS', () => {
  it('drops lower-scoring overlaps of the same class only', () => {
    const kept = nonMaxSuppression(
      [box(0, 0, 10, 10, 0.6), box(1, 1, 11, 11, 0.9), box(1, 1, 11, 11, 0.8, 1), box(50, 50, 60, 60, 0.3)],
      0.45,
    );
    expect(kept.map((k) => [k.score, k.classId])).toEqual([[0.9, 0], [0.8, 1], [0.3, 0]]);
  });

  it('keeps overlaps under the threshold and caps the count', () => {
    const pair = [box(0, 0, 10, 10, 0.9), box(5, 0, 15, 10, 0.8)]; // IoU 0.33
    expect(nonMaxSuppression(pair, 0.45)).toHaveLength(2);
    expect(nonMaxSuppression(pair, 0.3)).toHaveLength(1);
    expect(nonMaxSuppression(pair, 0.45, 1)).toHaveLength(1);
  });
});
