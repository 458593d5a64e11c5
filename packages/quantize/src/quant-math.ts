/** Integer type of quantized activations. */
export type ActivationType = 'uint8' | 'int8';

/** Affine quantization: real = scale * (q - zeroPoint). */
export interface QParams {
  scale: number;
  zeroPoint: number;
}

export const QRANGE: Record<ActivationType, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

const f32 = Math.fround;

/**
 * Asymmetric parameters covering [min, max]. The range is stretched to hold 0 so that
 * zero (convolution padding) is exactly representable, as ONNX Runtime requires.
 */
export function activationParams(min: number, max: number, type: ActivationType): QParams {
  const [qmin, qmax] = QRANGE[type];
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (!(hi - lo > 1e-30)) return { scale: 1, zeroPoint: type === 'uint8' ? 0 : 0 };
  const scale = f32((hi - lo) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** round-half-to-even, as QuantizeLinear rounds. */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** QuantizeLinear on one value. */
export function quantize(v: number, p: QParams, type: ActivationType): number {
  const [qmin, qmax] = QRANGE[type];
  return Math.min(qmax, Math.max(qmin, roundEven(v / p.scale) + p.zeroPoint));
}

/** DequantizeLinear on one value. */
export function dequantize(q: number, p: QParams): number {
  return p.scale * (q - p.zeroPoint);
}

/**
 * Symmetric int8 per output channel (axis 0, contiguous blocks): scale = max|w| / 127,
 * zero point 0, values in [-127, 127] so that the range is symmetric.
 */
export function quantizeWeightsPerChannel(w: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  if (w.length % channels !== 0) throw new Error(`${w.length} weights do not split into ${channels} channels`);
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let maxAbs = 0;
    for (let i = c * per; i < (c + 1) * per; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
    // An all-zero channel still needs a positive scale.
    const scale = maxAbs > 0 ? f32(maxAbs / 127) : 1;
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, roundEven(w[i]! / scale)));
  }
  return { q, scales };
}

/** Bias as int32 at scale input_scale * weight_scale[c] (what QLinearConv accumulates in). */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: Float32Array): { q: Int32Array; scales: Float32Array } {
  const q = new Int32Array(b.length);
  const scales = new Float32Array(b.length);
  for (let c = 0; c < b.length; c++) {
    const s = f32(inputScale * weightScales[c]!);
    scales[c] = s;
    q[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundEven(b[c]! / s)));
  }
  return { q, scales };
}

/** A fixed-range histogram of a tensor's values over many calibration images. */
export class Histogram {
  readonly counts: Float64Array;
  private readonly width: number;

  constructor(
    readonly min: number,
    readonly max: number,
    readonly bins = 2048,
  ) {
    this.counts = new Float64Array(bins);
    this.width = max > min ? (max - min) / bins : 1;
  }

  /** Counts values; anything outside [min, max] lands in the edge bins. */
  add(data: ArrayLike<number>) {
    const { counts, min, width, bins } = this;
    const inv = 1 / width;
    for (let i = 0; i < data.length; i++) {
      const b = Math.floor((data[i]! - min) * inv);
      counts[b < 0 ? 0 : b >= bins ? bins - 1 : b]!++;
    }
  }

  /** Left edge of bin `i` (i = bins gives the right edge of the last bin). */
  edge(i: number) {
    return i >= this.bins ? this.max : this.min + i * this.width;
  }
}

/**
 * The range keeping all but `(100 - percentile)`% of the values on each side: a few extreme
 * activations no longer stretch the scale of all the others.
 */
export function percentileRange(h: Histogram, percentile: number): [number, number] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const tail = (total * (100 - percentile)) / 100;
  let lo = 0;
  for (let acc = 0; lo < h.bins - 1 && acc + h.counts[lo]! <= tail; lo++) acc += h.counts[lo]!;
  let hi = h.bins - 1;
  for (let acc = 0; hi > 0 && acc + h.counts[hi]! <= tail; hi--) acc += h.counts[hi]!;
  return [h.edge(lo), h.edge(hi + 1)];
}

/**
 * KL-divergence (entropy) calibration, as TensorRT introduced it: among clipping ranges
 * [max(min, -t), min(max, t)], the one whose `levels`-level quantization loses the least
 * information, KL(P || Q), P being the clipped distribution (clipped mass folded into the
 * edge bins) and Q its quantized version. Clipping on |x| suits both signed tensors and
 * SiLU outputs (whose small negative side is then never clipped).
 */
export function entropyRange(h: Histogram, levels = 256, step = 16): [number, number] {
  const tmax = Math.max(Math.abs(h.min), Math.abs(h.max));
  const binOf = (v: number) => Math.min(h.bins, Math.max(0, Math.round((v - h.min) / ((h.max - h.min) / h.bins))));
  let best: [number, number] = [h.min, h.max];
  let bestKl = Infinity;
  const candidates = Math.ceil(h.bins / step);
  for (let k = candidates; k >= 1; k--) {
    const t = (tmax * k) / candidates;
    const s = binOf(Math.max(h.min, -t));
    const e = binOf(Math.min(h.max, t));
    const n = e - s;
    if (n < levels) continue;
    const kl = clippingKl(h.counts, s, e, levels);
    // `<=`: of equally good ranges, the narrower one (finer steps).
    if (kl <= bestKl) {
      bestKl = kl;
      best = [h.edge(s), h.edge(e)];
    }
  }
  return best;
}

/** KL(P || Q) of keeping bins [s, e) and quantizing them to `levels` levels. */
export function clippingKl(counts: Float64Array, s: number, e: number, levels: number): number {
  const n = e - s;
  const p = Float64Array.from(counts.subarray(s, e));
  for (let i = 0; i < s; i++) p[0]! += counts[i]!;
  for (let i = e; i < counts.length; i++) p[n - 1]! += counts[i]!;
  // Q: each level's mass (unclipped counts) spread evenly over its non-empty bins.
  const q = new Float64Array(n);
  for (let l = 0; l < levels; l++) {
    const a = Math.floor((l * n) / levels);
    const b = Math.floor(((l + 1) * n) / levels);
    let mass = 0;
    let nonEmpty = 0;
    for (let i = a; i < b; i++) {
      mass += counts[s + i]!;
      if (counts[s + i]! > 0) nonEmpty++;
    }
    for (let i = a; i < b; i++) q[i] = counts[s + i]! > 0 ? mass / nonEmpty : 0;
  }
  const sp = p.reduce((x, y) => x + y, 0);
  const sq = q.reduce((x, y) => x + y, 0);
  if (sp === 0) return 0;
  // Bins P has and Q lacks (the folded edges) get a small floor instead of an infinite cost.
  const eps = 1e-6;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    if (p[i]! === 0) continue;
    const pi = p[i]! / sp;
    const qi = Math.max(q[i]! / (sq || 1), eps);
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}

/** The x below which |SiLU(x)| stays under half of `outputStep`: SiLU inputs need no range below it. */
export function siluFloor(outputStep: number): number {
  let x = -0.5;
  // SiLU(x) = x / (1 + e^-x) is decreasing towards 0 for x < -1.28.
  while (x > -40 && (Math.abs(x / (1 + Math.exp(-x))) >= outputStep / 2 || x > -1.28)) x -= 0.25;
  return x;
}
