import { describe, expect, it } from 'vitest';
import { initiate, predict, update } from './kalman-filter.js';

describe('the Kalman filter', () => {
  it("gives ByteTrack's numbers (its kalman_filter.py with NumPy and SciPy, run on the same measurements)", () => {
    const s = initiate([100, 50, 0.5, 40]);
    for (let t = 1; t <= 15; t++) {
      predict(s);
      update(s, [100 + 6 * t, 50 - 2 * t, 0.5, 40]);
    }
    const reference = [189.89267986908928, 20.035773376970244, 0.5, 40, 5.8283490235507545, -1.94278300785025, 0, 0];
    reference.forEach((v, i) => expect(s.mean[i]).toBeCloseTo(v, 10));
    expect(s.cov[0]).toBeCloseTo(2.65558080450485, 10);
    expect(s.cov[4 * 8 + 4]).toBeCloseTo(0.5988418269868118, 10);
    expect(s.cov[4]).toBeCloseTo(0.3109028963533961, 10);
  });

  it('learns a constant velocity and predicts the next position from it', () => {
    const s = initiate([100, 50, 0.5, 40]);
    for (let t = 1; t <= 40; t++) {
      predict(s);
      update(s, [100 + 6 * t, 50 - 2 * t, 0.5, 40]);
    }
    expect(s.mean[4]).toBeCloseTo(6, 1);
    expect(s.mean[5]).toBeCloseTo(-2, 1);
    predict(s);
    expect(s.mean[0]).toBeCloseTo(346, 0);
    expect(s.mean[1]).toBeCloseTo(-32, 0);
  });

  it('keeps the covariance symmetric and shrinks the position uncertainty with measurements', () => {
    const s = initiate([0, 0, 1, 100]);
    const before = s.cov[0]!;
    for (let t = 0; t < 5; t++) {
      predict(s);
      update(s, [0, 0, 1, 100]);
    }
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(s.cov[i * 8 + j]).toBeCloseTo(s.cov[j * 8 + i]!, 9);
    expect(s.cov[0]).toBeLessThan(before);
  });
});
