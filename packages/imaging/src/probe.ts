import sharp from 'sharp';
import { EmptyImageError, IMAGE_FORMAT_LIST, ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from '@spotter/shared';
import { isTruncated, sniffFormat, type ImageFormat } from './sniff.js';

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
 * Validates an upload from its header and structure only (no pixel decode): an accepted
 * format by content, a readable header, a pixel count under the limit, not cut short.
 */
export async function probeImage(buf: Buffer, maxPixels: number): Promise<ImageProbe> {
  if (buf.length === 0) throw new EmptyImageError();
  const format = sniffFormat(buf);
  if (!format) throw new UnsupportedImageError(`the file is not an image Spotter reads (${IMAGE_FORMAT_LIST})`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageDecodeError(`the ${format} header cannot be read`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(`the ${format} image has no dimensions`);
  if (meta.width * meta.height > maxPixels) {
    throw new ImageTooLargeError(`the image is ${meta.width}x${meta.height} pixels, over the limit of ${maxPixels} pixels`, 'IMAGE_TOO_MANY_PIXELS');
  }
  if (isTruncated(buf, format)) throw new ImageDecodeError(`the ${format} file is truncated`);
  return { format, ...orientedSize(meta.width, meta.height, meta.orientation) };
}
