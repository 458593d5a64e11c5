import type { ImageFormat } from '@spotter/shared';

export type { ImageFormat };

const ascii = (buf: Buffer, start: number, end: number) => buf.toString('latin1', start, end);

/** Identifies the format from its magic bytes; null when it is not an image we accept. */
export function sniffFormat(buf: Buffer): ImageFormat | null {
  if (buf.length < 12) return null;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (ascii(buf, 0, 6) === 'GIF87a' || ascii(buf, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (ascii(buf, 0, 4) === 'II*\0' || ascii(buf, 0, 4) === 'MM\0*') return 'tiff';
  if (ascii(buf, 4, 8) === 'ftyp') {
    const brand = ascii(buf, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'mif1', 'msf1', 'heim', 'heis'].includes(brand)) return 'heif';
  }
  return null;
}

export interface JpegSegment {
  marker: number;
  /** Offset of the 0xFF of the marker. */
  start: number;
  /** Offset just past the segment (and, for a scan, past its entropy-coded data). */
  end: number;
}

/**
 * Walks a JPEG's segments to its end-of-image marker. Bytes after it (a Motion Photo's video,
 * appended metadata) are not the image's business. `end` is null when the file stops before
 * that marker (cut short), or the offset just past it; `corrupt` when no marker stands where
 * one must (the decoder will say more).
 */
export function walkJpeg(buf: Buffer): { segments: JpegSegment[]; end: number | null; corrupt: boolean } {
  const segments: JpegSegment[] = [];
  let i = 2;
  while (i + 1 < buf.length) {
    if (buf[i] !== 0xff) return { segments, end: null, corrupt: true };
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) return { segments, end: i + 2, corrupt: false };
    const start = i;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      segments.push({ marker, start, end: i });
      continue;
    }
    if (i + 4 > buf.length) break;
    i += 2 + buf.readUInt16BE(i + 2);
    if (marker === 0xda) i = endOfScan(buf, i);
    segments.push({ marker, start, end: Math.min(i, buf.length) });
  }
  return { segments, end: null, corrupt: false };
}

/**
 * Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart;
 * found with indexOf (native), not byte by byte: this walk runs on every upload.
 */
function endOfScan(buf: Buffer, from: number): number {
  let i = from;
  for (;;) {
    const ff = buf.indexOf(0xff, i);
    if (ff < 0 || ff + 1 >= buf.length) return buf.length;
    const next = buf[ff + 1]!;
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return ff;
    i = ff + 2;
  }
}

export interface PngChunk {
  type: string;
  start: number;
  end: number;
}

/** Walks a PNG's chunks to IEND (anything after it is ignored); `end` is null when a chunk is cut short. */
export function walkPng(buf: Buffer): { chunks: PngChunk[]; end: number | null } {
  const chunks: PngChunk[] = [];
  let i = 8;
  while (i + 8 <= buf.length) {
    const length = buf.readUInt32BE(i);
    if (i + 12 + length > buf.length) break;
    const type = ascii(buf, i + 4, i + 8);
    chunks.push({ type, start: i, end: i + 12 + length });
    i += 12 + length;
    if (type === 'IEND') return { chunks, end: i };
  }
  return { chunks, end: null };
}

/**
 * Whether a JPEG, PNG or WebP file is cut short, judged by walking its structure (not by its
 * last bytes), so files carrying data after their end are accepted. Other formats, and any
 * damage inside the data, are judged by the decoder in the worker.
 */
export function isTruncated(buf: Buffer, format: ImageFormat): boolean {
  switch (format) {
    case 'jpeg': {
      const w = walkJpeg(buf);
      return w.end === null && !w.corrupt;
    }
    case 'png':
      return walkPng(buf).end === null;
    case 'webp':
      return buf.readUInt32LE(4) + 8 > buf.length;
    default:
      return false;
  }
}
