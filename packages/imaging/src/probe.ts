import sharp from 'sharp';
import { ImageDecodeError, InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '@spotter/shared';
import { looksTruncated, sniffFormat, type ImageFormat } from './sniff.js';

export interface ImageProbe {
  format: ImageFormat;
  /** Size as displayed, EXIF orientation applied. */
  width: number;
  height: number;
}

/** EXIF orientations 5..8 rotate by 90 degrees, swapping width and height. */
export function orientedSize(width: number, height: number, orientation: number | undefined) {
  return orientation !== undefined && orientation >= 5 ? { width: height, height: width } : { width, height };
}

/**
 * Validates an upload from its header only (no pixel decode): an accepted format by
 * content, a readable header, a pixel count under the limit, not cut short.
 */
export async function probeImage(buf: Buffer, maxPixels: number): Promise<ImageProbe> {
  if (buf.length === 0) throw new InvalidRequestError('the image file is empty', 'EMPTY_FILE');
  const format = sniffFormat(buf);
  if (!format) {
    throw new UnsupportedMediaTypeError('the file is not an image Spotter reads (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)');
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageDecodeError(`the ${format} header cannot be read`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(`the ${format} image has no dimensions`);
  if (meta.width * meta.height > maxPixels) {
    throw new PayloadTooLargeError(
      `the image is ${meta.width}x${meta.height} pixels, over the limit of ${maxPixels} pixels`,
      'IMAGE_TOO_MANY_PIXELS',
    );
  }
  if (looksTruncated(buf, format)) throw new ImageDecodeError(`the ${format} file is truncated`);
  return { format, ...orientedSize(meta.width, meta.height, meta.orientation) };
}
