/** Image formats Spotter accepts, judged from the bytes, never from a file name. */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'heif' | 'tiff';

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

/**
 * Cheap structural check for uploads cut short in transit: the trailer each format
 * must end with. Formats without a reliable trailer pass and are judged by the decoder.
 */
export function looksTruncated(buf: Buffer, format: ImageFormat): boolean {
  const tail = buf.subarray(Math.max(0, buf.length - 1024));
  switch (format) {
    case 'jpeg':
      return tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0;
    case 'png':
      return tail.lastIndexOf(Buffer.from('IEND', 'latin1')) < 0;
    case 'gif':
      return buf[buf.length - 1] !== 0x3b && tail.lastIndexOf(0x3b) < 0;
    case 'webp':
      return buf.readUInt32LE(4) + 8 > buf.length;
    default:
      return false;
  }
}
