/** Source pixels and weights of one output pixel along one axis. */
interface Taps {
  first: number;
  weights: Float32Array;
}

/**
 * Triangle-filter taps for resampling `inSize` pixels to `outSize`: pixel centres aligned
 * ((o + 0.5) * scale - 0.5), the kernel widened by the shrink factor when reducing so that
 * every source pixel counts (no aliasing), edges clamped. This is the filter libvips applies
 * for sharp's `kernel: 'linear'`.
 */
function taps(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  return Array.from({ length: outSize }, (_, o) => {
    const centre = (o + 0.5) * scale - 0.5;
    const first = Math.floor(centre - support) + 1;
    const weights = new Float32Array(Math.ceil(centre + support) - first);
    let sum = 0;
    for (let k = 0; k < weights.length; k++) {
      const w = Math.max(0, 1 - Math.abs(first + k - centre) / support);
      weights[k] = w;
      sum += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k]! /= sum;
    return { first, weights };
  });
}

/**
 * Resizes 8-bit RGB pixels (row-major) with a separable linear filter: what the worker's
 * decodeToFit gets from libvips, within a level or two per channel, for code that has no
 * libvips (the console's edge page fits a decoded picture with it).
 */
export function resizeLinear(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (pixels.length !== width * height * 3) throw new Error(`expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${pixels.length}`);
  const tx = taps(width, outWidth);
  const ty = taps(height, outHeight);
  const clampX = (x: number) => (x < 0 ? 0 : x >= width ? width - 1 : x);
  const clampY = (y: number) => (y < 0 ? 0 : y >= height ? height - 1 : y);
  // Horizontal pass into floats, then vertical, rounding once at the end.
  const rows = new Float32Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const { first, weights } = tx[x]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const w = weights[k]!;
        const p = row + clampX(first + k) * 3;
        r += w * pixels[p]!;
        g += w * pixels[p + 1]!;
        b += w * pixels[p + 2]!;
      }
      const q = (y * outWidth + x) * 3;
      rows[q] = r;
      rows[q + 1] = g;
      rows[q + 2] = b;
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  const line = outWidth * 3;
  const acc = new Float32Array(line);
  for (let y = 0; y < outHeight; y++) {
    const { first, weights } = ty[y]!;
    acc.fill(0);
    for (let k = 0; k < weights.length; k++) {
      const w = weights[k]!;
      const src = clampY(first + k) * line;
      for (let i = 0; i < line; i++) acc[i]! += w * rows[src + i]!;
    }
    const q = y * line;
    for (let i = 0; i < line; i++) out[q + i] = Math.min(255, Math.max(0, Math.round(acc[i]!)));
  }
  return out;
}
