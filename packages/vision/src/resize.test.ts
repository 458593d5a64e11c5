import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitGeometry, squareTarget } from './preprocess.js';
import { resizeLinear } from './resize.js';

const DATASET = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'datasets', 'coco-val128', 'images');

function difference(a: Uint8Array, b: Uint8Array) {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

describe('resizeLinear', () => {
  it('keeps a flat image flat and the same size unchanged', () => {
    const flat = new Uint8Array(7 * 5 * 3).fill(93);
    expect(resizeLinear(flat, 7, 5, 3, 2)).toEqual(new Uint8Array(3 * 2 * 3).fill(93));
    const noise = Uint8Array.from({ length: 6 * 4 * 3 }, (_, i) => (i * 37) % 256);
    expect(resizeLinear(noise, 6, 4, 6, 4)).toEqual(noise);
  });

  it('averages what it shrinks: a 2:1 reduction of stripes is their mean grey', () => {
    const stripes = Uint8Array.from({ length: 8 * 2 * 3 }, (_, i) => (Math.floor(i / 3) % 2 ? 200 : 0));
    const out = resizeLinear(stripes, 8, 2, 4, 1);
    for (const v of out) expect(Math.abs(v - 100)).toBeLessThanOrEqual(25);
  });

  it.each(['000000000139.jpg', '000000000632.jpg'])('matches libvips (sharp kernel linear, as the worker fits) on %s', async (name) => {
    const file = path.join(DATASET, name);
    const full = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { fitWidth, fitHeight } = fitGeometry(full.info.width, full.info.height, squareTarget(416));
    const worker = await sharp(file).rotate().resize(fitWidth, fitHeight, { fit: 'fill', kernel: 'linear' }).removeAlpha().raw().toBuffer();
    const d = difference(resizeLinear(full.data, full.info.width, full.info.height, fitWidth, fitHeight), worker);
    // Measured: mean 0.18, max 2 (libvips rounds in fixed point).
    expect(d.mean).toBeLessThan(0.3);
    expect(d.max).toBeLessThanOrEqual(2);
  });

  it('refuses pixels that are not width x height RGB', () => {
    expect(() => resizeLinear(new Uint8Array(10), 2, 2, 1, 1)).toThrow(/expected 12 RGB bytes/);
  });
});
