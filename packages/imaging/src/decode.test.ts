import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeToFit } from './decode.js';

describe('decodeToFit', () => {
  it('keeps the aspect ratio with YOLOX rounding and returns 8-bit RGB', async () => {
    const png = await sharp({ create: { width: 640, height: 427, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
    const img = await decodeToFit(png, 416, 1e7);
    expect([img.width, img.height, img.fitWidth, img.fitHeight]).toEqual([640, 427, 416, 277]);
    expect(img.scaleX).toBeCloseTo(0.65);
    expect(img.pixels.length).toBe(416 * 277 * 3);
    expect([...img.pixels.subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it("stretches to a non-square target, or centres in one, as the model's pre-processing says", async () => {
    const png = await sharp({ create: { width: 640, height: 427, channels: 3, background: '#808080' } }).png().toBuffer();
    const s = await decodeToFit(png, { width: 320, height: 240, resize: 'stretch', pad: 'top-left' }, 1e7);
    expect([s.fitWidth, s.fitHeight, s.padX, s.padY, s.pixels.length]).toEqual([320, 240, 0, 0, 320 * 240 * 3]);
    expect(s.scaleY).toBeCloseTo(240 / 427);
    const c = await decodeToFit(png, { width: 640, height: 640, resize: 'letterbox', pad: 'center' }, 1e7);
    expect([c.fitWidth, c.fitHeight, c.padX, c.padY]).toEqual([640, 427, 0, 106]);
  });

  it('normalises grayscale, 16-bit and CMYK input to RGB, and flattens alpha onto grey 114', async () => {
    const src = sharp({ create: { width: 50, height: 50, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } });
    const transparent = await decodeToFit(await src.png().toBuffer(), 50, 1e7);
    expect([...transparent.pixels.subarray(0, 3)]).toEqual([114, 114, 114]);
    const grey = await decodeToFit(await sharp({ create: { width: 20, height: 10, channels: 3, background: '#404040' } }).grayscale().png().toBuffer(), 20, 1e7);
    expect(grey.pixels.length).toBe(20 * 10 * 3);
    const deep = await decodeToFit(await sharp({ create: { width: 20, height: 10, channels: 3, background: '#ff0000' } }).toColourspace('rgb16').png().toBuffer(), 20, 1e7);
    expect([...deep.pixels.subarray(0, 3)]).toEqual([255, 0, 0]);
    const cmyk = await decodeToFit(await sharp({ create: { width: 20, height: 10, channels: 3, background: '#00ff00' } }).toColourspace('cmyk').jpeg().toBuffer(), 20, 1e7);
    expect(cmyk.pixels.length).toBe(20 * 10 * 3);
  });

  it('refuses images over the pixel limit and undecodable bytes with IMAGE_DECODE_FAILED', async () => {
    const big = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#000' } }).png().toBuffer();
    await expect(decodeToFit(big, 416, 100 * 100)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
    await expect(decodeToFit(Buffer.from('garbage garbage garbage'), 416, 1e7)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
  });
});
