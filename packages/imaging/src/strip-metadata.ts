import sharp from 'sharp';
import { ImageDecodeError, type ImageFormat } from '@spotter/shared';
import { walkJpeg, walkPng, type JpegSegment } from './sniff.js';

// JPEG segments worth keeping: JFIF (APP0), the ICC colour profile (an APP2 named so), Adobe's
// colour transform (APP14), and everything that is not an application segment or a comment.
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;
function keepJpegSegment(buf: Buffer, s: JpegSegment): boolean {
  if (s.marker === COM) return false;
  if (s.marker < APP0 || s.marker > 0xef) return true;
  if (s.marker === APP2) return buf.toString('latin1', s.start + 4, s.start + 16) === 'ICC_PROFILE\0';
  return s.marker === APP0 || s.marker === APP14;
}

/** An APP1 segment holding an EXIF block with nothing but the orientation tag. */
function orientationOnlyExif(orientation: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt16BE(0xffe1, 0);
  b.writeUInt16BE(34, 2);
  b.write('Exif\0\0', 4, 'latin1');
  b.write('MM', 10, 'latin1');
  b.writeUInt16BE(42, 12);
  b.writeUInt32BE(8, 14); // IFD0 right after the TIFF header
  b.writeUInt16BE(1, 18); // one entry
  b.writeUInt16BE(0x0112, 20); // Orientation
  b.writeUInt16BE(3, 22); // SHORT
  b.writeUInt32BE(1, 24);
  b.writeUInt16BE(orientation, 28);
  b.writeUInt32BE(0, 32); // no next IFD
  return b;
}

function stripJpeg(buf: Buffer, orientation: number | undefined): Buffer {
  const { segments, end } = walkJpeg(buf);
  if (end === null) throw new ImageDecodeError('the jpeg file is truncated');
  const kept = segments.filter((s) => keepJpegSegment(buf, s)).map((s) => buf.subarray(s.start, s.end));
  // How the picture is meant to be shown stays, where EXIF readers look: after SOI and JFIF.
  const jfif = segments.find((s) => keepJpegSegment(buf, s))?.marker === APP0 ? 1 : 0;
  if (orientation && orientation > 1) kept.splice(jfif, 0, orientationOnlyExif(orientation));
  return Buffer.concat([buf.subarray(0, 2), ...kept, Buffer.from([0xff, 0xd9])]);
}

const PNG_TEXT = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

function stripPng(buf: Buffer): Buffer {
  const { chunks, end } = walkPng(buf);
  if (end === null) throw new ImageDecodeError('the png file is truncated');
  return Buffer.concat([buf.subarray(0, 8), ...chunks.filter((c) => !PNG_TEXT.has(c.type)).map((c) => buf.subarray(c.start, c.end))]);
}

function stripWebp(buf: Buffer): Buffer {
  const kept: Buffer[] = [];
  for (let i = 12; i + 8 <= buf.length; ) {
    const type = buf.toString('latin1', i, i + 4);
    const size = buf.readUInt32LE(i + 4);
    const next = i + 8 + size + (size % 2);
    const chunk = Buffer.from(buf.subarray(i, Math.min(next, buf.length)));
    // VP8X flags: bit 3 says EXIF is present, bit 2 XMP; both go.
    if (type === 'VP8X') chunk[8] = chunk[8]! & ~0x0c;
    if (type !== 'EXIF' && type !== 'XMP ') kept.push(chunk);
    i = next;
  }
  const body = Buffer.concat(kept);
  const header = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  return Buffer.concat([header, body]);
}

/**
 * The image without its metadata (EXIF with GPS position and camera, XMP, IPTC, comments,
 * text chunks): losslessly for JPEG (segments dropped, the orientation tag kept), PNG (text
 * chunks dropped) and WebP (EXIF/XMP chunks dropped); bytes after the image's end go too.
 * GIF, TIFF, AVIF and HEIF are decoded and re-encoded as PNG, which is lossless for the
 * decoded pixels (orientation applied) but changes the format.
 */
export async function stripMetadata(buf: Buffer, format: ImageFormat): Promise<{ bytes: Buffer; format: ImageFormat }> {
  if (format === 'jpeg') return { bytes: stripJpeg(buf, (await sharp(buf).metadata()).orientation), format };
  if (format === 'png') return { bytes: stripPng(buf), format };
  if (format === 'webp') return { bytes: stripWebp(buf), format };
  try {
    return { bytes: await sharp(buf, { limitInputPixels: false }).rotate().png().toBuffer(), format: 'png' };
  } catch (err) {
    throw new ImageDecodeError(`the ${format} image cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}
