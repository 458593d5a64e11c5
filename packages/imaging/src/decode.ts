import sharp from 'sharp';
import { ImageDecodeError } from '@spotter/shared';
import { fitGeometry, squareTarget, type FitTarget, type ModelInput } from '@spotter/vision';
import { isSrgbProfile } from './icc-profile.js';
import { decodeJpegToFit } from './jpeg-decode.js';
import { orientedSize } from './probe.js';

/** An image decoded and resized to its fit in a model's input (RGB, 8 bits). */
export interface FittedImage extends ModelInput {
  pixels: Buffer;
}

// Transparent areas become the same grey the model's letterbox padding uses.
const BACKGROUND = { r: 114, g: 114, b: 114 };

/**
 * Decodes and fits an upload to its place in a model's input (@spotter/vision's fitGeometry; a
 * bare size is a square top-left letterbox): JPEGs through libjpeg-turbo directly when the
 * native addon is built (a third of sharp's CPU time; docs/performance.md), everything else,
 * and any JPEG that path declines, through sharp.
 */
export async function decodeToFit(buf: Buffer, target: FitTarget | number, maxPixels: number): Promise<FittedImage> {
  const to = typeof target === 'number' ? squareTarget(target) : target;
  const fast = buf[0] === 0xff && buf[1] === 0xd8 ? await decodeJpegToFit(buf, to, maxPixels) : null;
  return fast ?? decodeWithSharp(buf, to, maxPixels);
}

/**
 * Decodes any accepted format (first frame of animations, EXIF rotation, alpha, CMYK,
 * grayscale and 16-bit all normalised to 8-bit sRGB) and resizes it in one libvips pass to its
 * fit in `target`.
 * An embedded sRGB profile is skipped: converting sRGB to sRGB gives the same pixels (at most
 * one level apart, on 2 of the dataset's 44 sRGB-tagged pictures) and took ~40% of the decode.
 */
export async function decodeWithSharp(buf: Buffer, target: FitTarget, maxPixels: number): Promise<FittedImage> {
  try {
    const options = { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true } as const;
    let img = sharp(buf, options);
    const meta = await img.metadata();
    if (meta.icc && isSrgbProfile(meta.icc)) img = sharp(buf, { ...options, ignoreIcc: true });
    if (!meta.width || !meta.height) throw new Error('no dimensions');
    const { width, height } = orientedSize(meta.width, meta.height, meta.orientation);
    const fit = fitGeometry(width, height, target);
    const { fitWidth, fitHeight } = fit;
    const { data, info } = await img
      .rotate()
      .flatten({ background: BACKGROUND })
      .toColourspace('srgb')
      .resize(fitWidth, fitHeight, { fit: 'fill', kernel: 'linear' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== fitWidth || info.height !== fitHeight) {
      throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`);
    }
    return { width, height, pixels: data, ...fit };
  } catch (err) {
    throw new ImageDecodeError(`the image cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}
