import sharp from 'sharp';
import { EmptyImageError, IMAGE_FORMAT_LIST, ImageDecodeError, ImageTooLargeError, UnsupportedImageError } from '@spotter/shared';
import { jpegHeader, pngHeader, type HeaderInfo } from './header.js';
import { isTruncated, sniffFormat, walkJpeg, type ImageFormat } from './sniff.js';

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
 * JPEG and PNG headers are read here in JavaScript (every upload passes through this);
 * other formats by libvips. Damage the header does not show (corrupt tables or pixel data)
 * is found by the worker's decoder: the job then fails with IMAGE_DECODE_FAILED.
 */
export async function probeImage(buf: Buffer, maxPixels: number): Promise<ImageProbe> {
  if (buf.length === 0) throw new EmptyImageError();
  const format = sniffFormat(buf);
  if (!format) throw new UnsupportedImageError(`the file is not an image Spotter reads (${IMAGE_FORMAT_LIST})`);
  const { width, height, orientation } = readHeader(buf, format) ?? (await libvipsHeader(buf, format));
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(`the image is ${width}x${height} pixels, over the limit of ${maxPixels} pixels`, 'IMAGE_TOO_MANY_PIXELS');
  }
  if (isTruncated(buf, format)) throw new ImageDecodeError(`the ${format} file is truncated`);
  return { format, ...orientedSize(width, height, orientation) };
}

function readHeader(buf: Buffer, format: ImageFormat): HeaderInfo | null {
  if (format === 'jpeg') return jpegHeader(buf, walkJpeg(buf).segments);
  if (format === 'png') return pngHeader(buf);
  return null;
}

async function libvipsHeader(buf: Buffer, format: ImageFormat): Promise<HeaderInfo> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageDecodeError(`the ${format} header cannot be read`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(`the ${format} image has no dimensions`);
  return { width: meta.width, height: meta.height, orientation: meta.orientation ?? 1 };
}
