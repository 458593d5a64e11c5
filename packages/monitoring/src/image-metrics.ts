import type { Detection } from '@spotter/shared';
import { sizeSlice } from './metric-catalog.js';

/** One image's observations: a value per single-valued metric, a list for per-box metrics. */
export type Observation = Record<string, number | string | (number | string)[]>;

/**
 * Input metrics from the already-decoded, model-sized RGB pixels (no extra decode), read on
 * every `step`-th pixel of every `step`-th row (the "small copy"): brightness (perceived),
 * contrast (grey stdev), Hasler-Süsstrunk colourfulness, grayscale flag, sharpness
 * (variance of the grey Laplacian at that resolution), grey entropy.
 */
export function pixelMetrics(rgb: Uint8Array, width: number, height: number, step = 2) {
  const w = Math.ceil(width / step);
  const h = Math.ceil(height / step);
  const n = w * h;
  const grey = new Uint8Array(n);
  const hist = new Float64Array(256);
  let bright = 0;
  let gsum = 0;
  let gsq = 0;
  let rgSum = 0;
  let rgSq = 0;
  let ybSum = 0;
  let ybSq = 0;
  let maxChroma = 0;
  let i = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step, i++) {
      const p = (y * width + x) * 3;
      const r = rgb[p]!;
      const g = rgb[p + 1]!;
      const b = rgb[p + 2]!;
      bright += Math.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b);
      const v = (0.299 * r + 0.587 * g + 0.114 * b + 0.5) | 0;
      grey[i] = v;
      hist[v]!++;
      gsum += v;
      gsq += v * v;
      const rg = r - g;
      const yb = 0.5 * (r + g) - b;
      rgSum += rg;
      rgSq += rg * rg;
      ybSum += yb;
      ybSq += yb * yb;
      const chroma = Math.max(r, g, b) - Math.min(r, g, b);
      if (chroma > maxChroma) maxChroma = chroma;
    }
  }
  const mean = gsum / n;
  const std = (sum: number, sq: number) => Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
  const colourfulness = Math.sqrt(std(rgSum, rgSq) ** 2 + std(ybSum, ybSq) ** 2) + 0.3 * Math.sqrt((rgSum / n) ** 2 + (ybSum / n) ** 2);
  let lsum = 0;
  let lsq = 0;
  let count = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const k = y * w + x;
      const lap = grey[k - 1]! + grey[k + 1]! + grey[k - w]! + grey[k + w]! - 4 * grey[k]!;
      lsum += lap;
      lsq += lap * lap;
      count++;
    }
  }
  let entropy = 0;
  for (const c of hist) if (c > 0) entropy -= (c / n) * Math.log2(c / n);
  return {
    brightness: bright / n,
    contrast: Math.sqrt(Math.max(0, gsq / n - mean * mean)),
    colourfulness,
    // A few levels of tolerance: JPEG chroma noise on a grey picture.
    grayscale: String(maxChroma <= 8),
    sharpness: count ? lsq / count - (lsum / count) ** 2 : 0,
    entropy,
  };
}

/**
 * JPEG quality estimated from the luminance quantisation table, against the IJG standard
 * table scaled by libjpeg's formula; null when the file is not a JPEG or has no table.
 */
export function estimateJpegQuality(buf: Buffer): number | null {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1]!;
    const len = buf.readUInt16BE(i + 2);
    if (marker === 0xdb) {
      const pq = buf[i + 4]! >> 4;
      const id = buf[i + 4]! & 15;
      if (id === 0) {
        const q: number[] = [];
        for (let k = 0; k < 64; k++) q.push(pq ? buf.readUInt16BE(i + 5 + 2 * k) : buf[i + 5 + k]!);
        // Compare sums: they do not depend on the zig-zag order.
        const scale = (q.reduce((a, b) => a + b, 0) / STD_LUMA_SUM) * 100;
        const quality = scale <= 100 ? (200 - scale) / 2 : 5000 / scale;
        return Math.max(1, Math.min(100, Math.round(quality)));
      }
    }
    if (marker === 0xda) return null;
    i += 2 + len;
  }
  return null;
}

// IJG standard luminance table (Annex K), summed.
const STD_LUMA_SUM = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103,
  77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
].reduce((a, b) => a + b, 0);

/**
 * Output metrics of one image's detections, counted at fixed score cuts (0.25, 0.5) whatever
 * `min_score` the job asked for, so that jobs with different filters stay comparable. `box_size` (COCO's size of each box) is no metric of its own: it keys the
 * per-box metrics into size slices.
 */
export function outputMetrics(detections: readonly Detection[], width: number, height: number): Observation {
  const boxes = detections.filter((d) => d.score >= 0.25);
  const margin = 2;
  const area = (d: Detection) => (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1);
  return {
    detections_025: boxes.length,
    detections_050: boxes.filter((d) => d.score >= 0.5).length,
    empty: String(boxes.length === 0),
    score: boxes.map((d) => d.score),
    ...(boxes.length ? { top1_score: Math.max(...boxes.map((d) => d.score)) } : {}),
    class: boxes.map((d) => d.class_id),
    box_relative_area: boxes.map((d) => area(d) / (width * height)),
    box_size: boxes.map((d) => sizeSlice(area(d))),
    box_aspect: boxes.map((d) => (d.box.x2 - d.box.x1) / Math.max(1e-6, d.box.y2 - d.box.y1)),
    border_boxes: boxes.filter((d) => d.box.x1 <= margin || d.box.y1 <= margin || d.box.x2 >= width - margin || d.box.y2 >= height - margin).length,
  };
}

/** Everything monitored about one served image: its pixels (already model-sized), its file, its answer. */
export function imageObservation(
  img: { pixels: Uint8Array; fitWidth: number; fitHeight: number; width: number; height: number },
  file: Buffer,
  format: string,
  detections: readonly Detection[],
): Observation {
  return {
    ...pixelMetrics(img.pixels, img.fitWidth, img.fitHeight),
    width: img.width,
    height: img.height,
    aspect_ratio: img.width / img.height,
    file_bytes: file.length,
    format,
    ...(format === 'jpeg' ? { jpeg_quality: estimateJpegQuality(file) ?? 0 } : {}),
    ...outputMetrics(detections, img.width, img.height),
  };
}

/**
 * What is monitored of a job whose input was a pre-processed tensor: its answer, in the frame
 * its boxes are in, and the picture's size when the client gave it. No pixel, file or format
 * metric: the worker never saw the picture, and pixels rebuilt from a tensor would describe
 * the client's pre-processing as much as its images.
 */
export function tensorObservation(frame: { width: number; height: number }, sourceKnown: boolean, detections: readonly Detection[]): Observation {
  return {
    ...(sourceKnown ? { width: frame.width, height: frame.height, aspect_ratio: frame.width / frame.height } : {}),
    ...outputMetrics(detections, frame.width, frame.height),
  };
}
