import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { decodeToFit } from '@spotter/imaging';
import { summarize } from './stats.js';

/**
 * Phone-size photos from the dataset: each picture scaled up to 12 megapixels (4000x3000 or
 * 3000x4000) with Lanczos-3, lightly sharpened the way phone pipelines do, saved as JPEG
 * quality 90. Every third is stored sideways with EXIF orientation 6, as phones held upright
 * do, so decoding must rotate it back.
 */
export async function makePhonePhotos(images: readonly Buffer[], count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const src = sharp(images[i % images.length]!);
    const { width = 4, height = 3 } = await src.metadata();
    const [w, h] = width >= height ? [4000, 3000] : [3000, 4000];
    const upright = await src.resize(w, h, { fit: 'cover', kernel: 'lanczos3' }).sharpen({ sigma: 0.8 }).toBuffer();
    const sideways = i % 3 === 2;
    // Orientation 6 means "rotate 90 degrees clockwise to display": store it turned the other way.
    const pipeline = sideways ? sharp(upright).rotate(-90).withMetadata({ orientation: 6 }) : sharp(upright);
    out.push(await pipeline.jpeg({ quality: 90 }).toBuffer());
  }
  return out;
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
