import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { looksTruncated, sniffFormat } from './sniff.js';

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
    expect(looksTruncated(buf, format)).toBe(false);
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
      expect(looksTruncated(buf.subarray(0, buf.length - 20), format)).toBe(true);
    }
  });
});
