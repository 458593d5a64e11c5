import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { squareTarget } from '@spotter/vision';
import { decodeToFit, decodeWithSharp } from './decode.js';
import { iccDescription, isSrgbProfile } from './icc-profile.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128/images');
const SQUARE = squareTarget(416);
const grey = () => sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 60, b: 30 } } });
const profileOf = async (buf: Buffer) => (await sharp(buf).metadata()).icc!;

describe('ICC profiles', () => {
  it('reads v2 and v4 descriptions, from cameras and from libvips', async () => {
    // COCO 285 embeds Canon's sRGB (v2 desc); libvips writes its P3 and sRGB profiles as v4 mluc.
    expect(iccDescription(await profileOf(await readFile(path.join(IMAGES, '000000000285.jpg'))))).toBe('sRGB v1.31 (Canon)');
    expect(iccDescription(await profileOf(await grey().withIccProfile('p3').jpeg().toBuffer()))).toBe('sP3C');
    expect(iccDescription(await profileOf(await grey().withIccProfile('srgb').jpeg().toBuffer()))).toBe('sRGB');
    expect(iccDescription(Buffer.from('not a profile at all, not a profile at all'))).toBeNull();
  });

  it('tells sRGB apart from other spaces', async () => {
    expect(isSrgbProfile(await profileOf(await grey().withIccProfile('srgb').jpeg().toBuffer()))).toBe(true);
    expect(isSrgbProfile(await profileOf(await grey().withIccProfile('p3').jpeg().toBuffer()))).toBe(false);
    expect(isSrgbProfile(Buffer.alloc(200))).toBe(false);
  });

  it('decoding with sharp skips an sRGB profile with identical pixels, and still converts from Display P3', async () => {
    const srgb = await readFile(path.join(IMAGES, '000000000285.jpg'));
    const fitted = await decodeWithSharp(srgb, SQUARE, 4e7);
    const converted = await sharp(srgb).toColourspace('srgb').resize(fitted.fitWidth, fitted.fitHeight, { fit: 'fill', kernel: 'linear' }).removeAlpha().raw().toBuffer();
    expect(fitted.pixels.equals(converted)).toBe(true);

    const p3 = await grey().withIccProfile('p3').png().toBuffer();
    const decoded = await decodeToFit(p3, 64, 1e7);
    const unmanaged = await sharp(p3, { ignoreIcc: true }).removeAlpha().raw().toBuffer();
    expect(decoded.pixels.equals(unmanaged)).toBe(false);
  });
});
