import { walkPng, type JpegSegment } from './sniff.js';

/** What a header says: stored size and EXIF orientation (1 when absent). */
export interface HeaderInfo {
  width: number;
  height: number;
  orientation: number;
}

/** JPEG start-of-frame markers (every coding process, not DHT 0xC4, JPG 0xC8 or DAC 0xCC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** The orientation tag (0x0112) of an EXIF block that starts with its TIFF header; 1 if absent or unreadable. */
export function exifOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 1;
  const le = tiff.toString('latin1', 0, 2) === 'II';
  if (!le && tiff.toString('latin1', 0, 2) !== 'MM') return 1;
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count && ifd + 2 + k * 12 + 12 <= tiff.length; k++) {
    const at = ifd + 2 + k * 12;
    if (u16(at) !== 0x0112) continue;
    const value = u16(at + 8);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * A JPEG's size and orientation from its segments (the first frame header, the EXIF block),
 * in JavaScript: the API checks every upload, and asking libvips costs more than the walk.
 * Null when the header does not say (no frame header, a zero height left to a DNL marker).
 */
export function jpegHeader(buf: Buffer, segments: readonly JpegSegment[]): HeaderInfo | null {
  let orientation = 1;
  for (const s of segments) {
    if (s.marker === 0xe1 && s.end - s.start > 10 && buf.toString('latin1', s.start + 4, s.start + 10) === 'Exif\0\0') {
      orientation = exifOrientation(buf.subarray(s.start + 10, s.end));
    }
    if (isSof(s.marker)) {
      if (s.start + 9 > buf.length) return null;
      const height = buf.readUInt16BE(s.start + 5);
      const width = buf.readUInt16BE(s.start + 7);
      return width && height ? { width, height, orientation } : null;
    }
  }
  return null;
}

/** A PNG's size from IHDR; null when it carries EXIF (eXIf), which may rotate it: libvips reads that. */
export function pngHeader(buf: Buffer): HeaderInfo | null {
  const { chunks } = walkPng(buf);
  if (chunks[0]?.type !== 'IHDR' || chunks.some((c) => c.type === 'eXIf')) return null;
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  return width && height ? { width, height, orientation: 1 } : null;
}

