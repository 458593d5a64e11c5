import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { squareTarget } from '@spotter/vision';
import { decodeToFit, decodeWithSharp, type FittedImage } from './decode.js';
import { decodeJpegToFit, jpegDecoderDescription, jpegIccProfile, nativeJpegAvailable } from './jpeg-decode.js';
import { walkJpeg } from './sniff.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128/images');
const SQUARE = squareTarget(416);

/** Largest per-channel difference, and the share of values more than 2 levels apart. */
function difference(a: FittedImage, b: FittedImage) {
  expect([a.width, a.height, a.fitWidth, a.fitHeight]).toEqual([b.width, b.height, b.fitWidth, b.fitHeight]);
  expect([a.scaleX, a.scaleY, a.padX, a.padY]).toEqual([b.scaleX, b.scaleY, b.padX, b.padY]);
  let max = 0;
  let over2 = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    const d = Math.abs(a.pixels[i]! - b.pixels[i]!);
    if (d > max) max = d;
    if (d > 2) over2++;
  }
  return { max, over2: over2 / a.pixels.length };
}

// The set-up builds the addon (scripts/lib.mjs); without a compiler every JPEG goes to sharp.
// So that the comparisons below cannot skip unseen where the addon should be there:
it('is built and loads wherever the machine has a C compiler and libjpeg-turbo headers', () => {
  const canBuild = existsSync('/usr/include/jpeglib.h') && spawnSync('cc', ['--version']).status === 0;
  if (canBuild) expect(nativeJpegAvailable, jpegDecoderDescription).toBe(true);
  expect(jpegDecoderDescription).toMatch(nativeJpegAvailable ? /^libjpeg-turbo/ : /^sharp: the native JPEG decoder is /);
});

describe.skipIf(!nativeJpegAvailable)('decodeJpegToFit (libjpeg-turbo without libvips)', () => {
  it('gives sharp\'s pixels within a few levels on every dataset picture it takes, and declines those with other profiles', async () => {
    const files = readdirSync(IMAGES).filter((f) => f.endsWith('.jpg')).sort();
    let taken = 0;
    let worst = 0;
    for (const f of files) {
      const buf = readFileSync(path.join(IMAGES, f));
      const fast = await decodeJpegToFit(buf, SQUARE, 1e8);
      const icc = jpegIccProfile(buf, walkJpeg(buf).segments);
      const meta = await sharp(buf).metadata();
      if (!fast) {
        // Declined only for a reason: a profile to convert, or a picture to enlarge.
        expect(Boolean(icc) || Math.max(meta.width!, meta.height!) < 416).toBe(true);
        continue;
      }
      taken++;
      const { max, over2 } = difference(fast, await decodeWithSharp(buf, SQUARE, 1e8));
      worst = Math.max(worst, max);
      expect(over2).toBeLessThan(1e-4);
    }
    expect(taken).toBeGreaterThan(100);
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('shrinks on load and box-filters as sharp does at every size (1/2, 1/4, 1/8 and what follows)', async () => {
    const src = readFileSync(path.join(IMAGES, '000000000139.jpg'));
    for (const [w, h] of [[900, 650], [1300, 900], [1700, 1190], [2000, 1400], [3300, 2500], [4000, 3000], [3400, 3400]] as const) {
      const buf = await sharp(src).resize(w, h).jpeg({ quality: 92 }).toBuffer();
      expect(difference((await decodeJpegToFit(buf, SQUARE, 1e8))!, await decodeWithSharp(buf, SQUARE, 1e8)).max, `${w}x${h}`).toBeLessThanOrEqual(3);
    }
  });

  it('applies every EXIF orientation as sharp does', async () => {
    const src = readFileSync(path.join(IMAGES, '000000000139.jpg'));
    const big = await sharp(src).resize(2000, 1400).jpeg({ quality: 92 }).toBuffer();
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const buf = await sharp(big).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer();
      const fast = await decodeJpegToFit(buf, SQUARE, 1e8);
      expect(fast, `orientation ${orientation}`).not.toBeNull();
      expect(difference(fast!, await decodeWithSharp(buf, SQUARE, 1e8)).max, `orientation ${orientation}`).toBeLessThanOrEqual(4);
    }
  });

  it('takes grayscale JPEGs as RGB and declines CMYK, enlargements, damage and the pixel limit (sharp decides those)', async () => {
    const grey = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#404040' } }).grayscale().jpeg().toBuffer();
    const g = await decodeJpegToFit(grey, SQUARE, 1e8);
    expect(g && [...g.pixels.subarray(0, 3)]).toEqual([64, 64, 64]);
    const cmyk = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#00ff00' } }).toColourspace('cmyk').jpeg().toBuffer();
    expect(await decodeJpegToFit(cmyk, SQUARE, 1e8)).toBeNull();
    const small = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#f00' } }).jpeg().toBuffer();
    expect(await decodeJpegToFit(small, SQUARE, 1e8)).toBeNull();
    const photo = readFileSync(path.join(IMAGES, '000000000139.jpg'));
    expect(await decodeJpegToFit(photo, SQUARE, 1000)).toBeNull();
    const cut = photo.subarray(0, Math.floor(photo.length * 0.6));
    expect(await decodeJpegToFit(cut, SQUARE, 1e8)).toBeNull();
    // Through decodeToFit they end as before: CMYK decoded by sharp, the pixel limit refused.
    expect((await decodeToFit(cmyk, 416, 1e8)).pixels.length).toBe(416 * 277 * 3);
    await expect(decodeToFit(photo, 416, 1000)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
  });
});
