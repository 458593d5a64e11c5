import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { decodeToFit } from '@spotter/imaging';
import { summarize } from './stats.js';

/**
 * Phone-size photos from the dataset: each picture scaled up to 12 megapixels (4000x3000 or
 * 3000x4000) with Lanczos-3, lightly sharpened, with sensor-like grain (an upscaled picture
 * is too smooth to weigh what a phone's does: 3-6 MB), saved as JPEG quality 90. Every third
 * is stored sideways with EXIF orientation 6, as phones held upright do, so decoding must
 * rotate it back.
 */
export async function makePhonePhotos(images: readonly Buffer[], count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const src = sharp(images[i % images.length]!);
    const { width = 4, height = 3 } = await src.metadata();
    const [w, h] = width >= height ? [4000, 3000] : [3000, 4000];
    const { data, info } = await src.resize(w, h, { fit: 'cover', kernel: 'lanczos3' }).sharpen({ sigma: 0.8 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    addGrain(data, i + 1);
    const upright = sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } });
    const sideways = i % 3 === 2;
    // Orientation 6 means "rotate 90 degrees clockwise to display": store it turned the other way.
    const pipeline = sideways ? upright.rotate(-90).withMetadata({ orientation: 6 }) : upright;
    out.push(await pipeline.jpeg({ quality: 90 }).toBuffer());
  }
  return out;
}

/** Triangular noise of +-20 levels from a fixed-seed generator (the same photos every run), tiled from a 64 Ki table: fast enough for 36 M values. */
function addGrain(pixels: Buffer, seed: number) {
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const table = Int8Array.from({ length: 1 << 16 }, () => Math.round((next() + next() - 1) * 20));
  const shift = seed * 7919;
  for (let k = 0; k < pixels.length; k++) {
    const v = pixels[k]! + table[(k + shift) & 0xffff]!;
    pixels[k] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/**
 * Decode time of the worker's path (libvips shrinks JPEGs while decoding when the target is
 * at least 2x smaller) against a full-size decode followed by the same resize.
 */
export async function measureDecode(photos: readonly Buffer[], size: number, maxPixels: number) {
  const fitted: number[] = [];
  const full: number[] = [];
  for (const [i, buf] of photos.entries()) {
    let t0 = performance.now();
    await decodeToFit(buf, size, maxPixels);
    if (i > 0) fitted.push(performance.now() - t0);
    t0 = performance.now();
    const { data, info } = await sharp(buf, { limitInputPixels: maxPixels }).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const scale = size / Math.max(info.width, info.height);
    await sharp(data, { raw: info })
      .resize(Math.round(info.width * scale), Math.round(info.height * scale), { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    if (i > 0) full.push(performance.now() - t0);
  }
  return { shrink_on_load_ms: summarize(fitted), full_decode_then_resize_ms: summarize(full) };
}
