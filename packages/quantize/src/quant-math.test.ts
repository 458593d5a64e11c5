import { describe, expect, it } from 'vitest';
import {
  activationParams,
  clippingKl,
  dequantize,
  entropyRange,
  Histogram,
  percentileRange,
  quantize,
  quantizeBias,
  quantizeWeightsPerChannel,
  roundEven,
  siluFloor,
} from './quant-math.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gaussian = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

describe('scale and zero point', () => {
  it('maps 0..255 pixels to uint8 exactly', () => {
    const p = activationParams(0, 255, 'uint8');
    expect(p).toEqual({ scale: 1, zeroPoint: 0 });
    for (const v of [0, 1, 114, 255]) expect(dequantize(quantize(v, p, 'uint8'), p)).toBe(v);
  });

  it('stretches the range to hold zero, which stays exact', () => {
    for (const [lo, hi, type] of [[2, 10, 'uint8'], [-0.28, 37.5, 'uint8'], [-3, 1, 'int8'], [-5, -1, 'int8']] as const) {
      const p = activationParams(lo, hi, type);
      expect(dequantize(quantize(0, p, type), p)).toBe(0);
      expect(p.scale).toBeCloseTo((Math.max(hi, 0) - Math.min(lo, 0)) / 255, 6);
    }
  });

  it('round-trips values in range within half a step', () => {
    const r = rng(1);
    for (const type of ['uint8', 'int8'] as const) {
      const p = activationParams(-1.7, 6.2, type);
      for (let i = 0; i < 1000; i++) {
        const v = -1.7 + r() * 7.9;
        expect(Math.abs(dequantize(quantize(v, p, type), p) - v)).toBeLessThanOrEqual(p.scale / 2 + 1e-6);
      }
    }
  });

  it('rounds halves to even, as QuantizeLinear does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });
});

describe('per-channel symmetric weights', () => {
  it('round-trips every channel within half of its own step', () => {
    const r = rng(2);
    const channels = 4;
    const per = 50;
    // Channels of very different magnitude: one scale each keeps the small ones precise.
    const w = Float32Array.from({ length: channels * per }, (_, i) => (r() - 0.5) * 10 ** (Math.floor(i / per) - 2));
    const { q, scales } = quantizeWeightsPerChannel(w, channels);
    for (let c = 0; c < channels; c++) {
      let maxAbs = 0;
      for (let i = c * per; i < (c + 1) * per; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
      expect(scales[c]).toBeCloseTo(maxAbs / 127, 9);
      let extreme = 0;
      for (let i = c * per; i < (c + 1) * per; i++) {
        expect(Math.abs(q[i]! * scales[c]! - w[i]!)).toBeLessThanOrEqual(scales[c]! / 2 + 1e-9);
        extreme = Math.max(extreme, Math.abs(q[i]!));
      }
      expect(extreme).toBe(127);
    }
  });

  it('gives an all-zero channel a usable scale', () => {
    const { q, scales } = quantizeWeightsPerChannel(new Float32Array([0, 0, 1, -2]), 2);
    expect(Array.from(q)).toEqual([0, 0, 64, -127]);
    expect(scales[0]).toBe(1);
  });

  it('quantizes biases at input scale x weight scale', () => {
    const b = new Float32Array([0.5, -1.25, 3]);
    const ws = new Float32Array([0.01, 0.02, 0.005]);
    const { q, scales } = quantizeBias(b, 0.1, ws);
    for (let c = 0; c < 3; c++) {
      expect(scales[c]).toBeCloseTo(0.1 * ws[c]!, 9);
      expect(q[c]! * scales[c]!).toBeCloseTo(b[c]!, 3);
    }
  });
});

describe('calibration on synthetic histograms', () => {
  it('counts every value, edges included', () => {
    const h = new Histogram(-1, 1, 4);
    h.add([-1, -0.6, 0, 0.49, 1, 5, -7]);
    expect(Array.from(h.counts)).toEqual([3, 0, 2, 2]);
    expect(h.edge(2)).toBe(0);
    expect(h.edge(4)).toBe(1);
  });

  it('percentile drops rare outliers and keeps the bulk', () => {
    const r = rng(3);
    const data = Float32Array.from({ length: 200_000 }, () => r());
    data[0] = 100;
    data[1] = -40;
    const h = new Histogram(-40, 100);
    h.add(data);
    const [lo, hi] = percentileRange(h, 99.99);
    expect(lo).toBeGreaterThan(-0.2);
    expect(lo).toBeLessThanOrEqual(0);
    expect(hi).toBeGreaterThanOrEqual(1);
    expect(hi).toBeLessThan(1.2);
    // 100%: nothing clipped.
    expect(percentileRange(h, 100)).toEqual([-40, 100]);
  });

  it('KL is zero when nothing is clipped and every bin is a level', () => {
    const counts = Float64Array.from({ length: 256 }, (_, i) => 1 + (i % 7));
    expect(clippingKl(counts, 0, 256, 256)).toBeCloseTo(0, 12);
    // Clipping away mass costs information.
    expect(clippingKl(counts, 0, 200, 100)).toBeGreaterThan(0);
  });

  it('entropy clips a gaussian with far outliers well inside the outliers', () => {
    const r = rng(4);
    const data = Float32Array.from({ length: 300_000 }, () => gaussian(r));
    data[0] = 60;
    data[1] = -60;
    const h = new Histogram(-60, 60);
    h.add(data);
    const [lo, hi] = entropyRange(h);
    expect(hi).toBeLessThan(20);
    expect(hi).toBeGreaterThan(3);
    expect(lo).toBeCloseTo(-hi, 0);
  });

  it('entropy keeps the whole range of a uniform distribution', () => {
    const r = rng(5);
    const data = Float32Array.from({ length: 300_000 }, () => r() * 2 - 1);
    const h = new Histogram(-1, 1);
    h.add(data);
    const [lo, hi] = entropyRange(h);
    expect(hi).toBeGreaterThan(0.95);
    expect(lo).toBeLessThan(-0.95);
  });

  it('entropy never clips the small negative side of a SiLU output', () => {
    const r = rng(6);
    const silu = (x: number) => x / (1 + Math.exp(-x));
    const data = Float32Array.from({ length: 300_000 }, () => silu(gaussian(r) * 3));
    data[0] = 80;
    const h = new Histogram(data.reduce((a, b) => Math.min(a, b)), 80);
    h.add(data);
    const [lo, hi] = entropyRange(h);
    expect(lo).toBeCloseTo(h.min, 6);
    expect(hi).toBeLessThan(40);
  });
});

describe('SiLU input floor', () => {
  it('sits where SiLU is within half an output step of 0', () => {
    const silu = (x: number) => x / (1 + Math.exp(-x));
    for (const step of [0.1, 0.028, 0.001]) {
      const floor = siluFloor(step);
      expect(Math.abs(silu(floor))).toBeLessThan(step / 2);
      // Everything below the floor is closer still to 0.
      for (let x = floor; x > -40; x -= 0.5) expect(Math.abs(silu(x))).toBeLessThan(step / 2);
      expect(Math.abs(silu(floor + 0.25))).toBeGreaterThanOrEqual(step / 2);
    }
  });
});
