import sharp from 'sharp';

export interface ImageStats {
  /** Mean luma, 0..255. */
  brightness: number;
  /** Standard deviation of luma. */
  contrast: number;
  /** Variance of the 4-neighbour Laplacian of luma: low means blurry. */
  sharpness: number;
}

/** Luma statistics of a grey, row-major pixel buffer. */
export function lumaStats(gray: Uint8Array, width: number, height: number): ImageStats {
  let sum = 0;
  let sq = 0;
  for (const v of gray) {
    sum += v;
    sq += v * v;
  }
  const n = gray.length;
  const mean = sum / n;
  let lsum = 0;
  let lsq = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = gray[i - 1]! + gray[i + 1]! + gray[i - width]! + gray[i + width]! - 4 * gray[i]!;
      lsum += lap;
      lsq += lap * lap;
      count++;
    }
  }
  const lmean = count ? lsum / count : 0;
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(0, sq / n - mean * mean)),
    sharpness: count ? lsq / count - lmean * lmean : 0,
  };
}

/** Brightness, contrast and sharpness measured on a small grey copy (longest side 256). */
export async function imageStats(buf: Buffer): Promise<ImageStats> {
  const { data, info } = await sharp(buf).rotate().resize(256, 256, { fit: 'inside' }).grayscale().raw().toBuffer({ resolveWithObject: true });
  return lumaStats(data, info.width, info.height);
}
