import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isTruncated, sniffFormat } from './sniff.js';

const base = () => sharp({ create: { width: 32, height: 24, channels: 3, background: '#808080' } });

describe('format sniffing', () => {
  it.each([
    ['jpeg', () => base().jpeg().toBuffer()],
    ['png', () => base().png().toBuffer()],
    ['webp', () => base().webp().toBuffer()],
    ['gif', () => base().gif().toBuffer()],
    ['tiff', () => base().tiff().toBuffer()],
    ['avif', () => base().avif({ effort: 0 }).toBuffer()],
  ] as const)('recognises %s from its bytes, whole and not truncated', async (format, make) => {
    const buf = await make();
    expect(sniffFormat(buf)).toBe(format);
    expect(isTruncated(buf, format)).toBe(false);
  });

  it('rejects text, HTML, SVG and short buffers whatever their name', () => {
    for (const s of ['hello world, not an image', '<html><body>hi</body></html>', '<svg xmlns="http://www.w3.org/2000/svg"/>', 'GIF8']) {
      expect(sniffFormat(Buffer.from(s))).toBeNull();
    }
  });

  it('notices JPEG, PNG and WebP cut short', async () => {
    for (const [format, buf] of [
      ['jpeg', await base().jpeg().toBuffer()],
      ['png', await base().png().toBuffer()],
      ['webp', await base().webp().toBuffer()],
    ] as const) {
      expect(isTruncated(buf.subarray(0, buf.length - 20), format)).toBe(true);
    }
  });

  it('accepts JPEG and PNG files carrying bytes after their end (Motion Photos, appended metadata)', async () => {
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    // A Motion Photo appends an MP4 (megabytes) after the JPEG's end-of-image marker.
    const video = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), Buffer.alloc(2 * 1024 * 1024, 7)]);
    expect(isTruncated(Buffer.concat([photo, video]), 'jpeg')).toBe(false);
    const png = await base().png().toBuffer();
    expect(isTruncated(Buffer.concat([png, Buffer.from('appended metadata, '.repeat(200))]), 'png')).toBe(false);
  });

  it('notices a JPEG cut anywhere in its scan data, with or without an end marker in its last kilobyte', async () => {
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    for (const fraction of [0.1, 0.5, 0.99]) expect(isTruncated(photo.subarray(0, Math.floor(photo.length * fraction)), 'jpeg')).toBe(true);
    expect(isTruncated(await base().jpeg({ progressive: true }).toBuffer(), 'jpeg')).toBe(false);
  });
});
