import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { probeImage } from './probe.js';

describe('probeImage', () => {
  it('reports format and displayed size (EXIF orientation applied)', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#000' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect(await probeImage(jpeg, 1e6)).toEqual({ format: 'jpeg', width: 20, height: 40 });
  });

  it('maps each refusal to its named error', async () => {
    const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#000' } }).png().toBuffer();
    await expect(probeImage(Buffer.alloc(0), 1e6)).rejects.toMatchObject({ code: 'EMPTY_FILE' });
    await expect(probeImage(Buffer.from('not an image at all'), 1e6)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expect(probeImage(png, 9999)).rejects.toMatchObject({ code: 'IMAGE_TOO_MANY_PIXELS' });
    await expect(probeImage(png.subarray(0, png.length - 12), 1e6)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
    await expect(probeImage(Buffer.concat([png.subarray(0, 16), Buffer.alloc(64)]), 1e6)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
  });
});
