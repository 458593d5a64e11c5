import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { detectionsSvg, drawDetections } from './draw.js';

const det = { label: 'dog <&>', class_id: 16, score: 0.876, box: { x1: 10, y1: 20, x2: 60, y2: 80 } };

describe('drawing detections', () => {
  it('escapes labels in the SVG overlay', () => {
    const svg = detectionsSvg(100, 100, [det]);
    expect(svg).toContain('dog &#60;&#38;&#62; 0.88');
    expect(svg).not.toContain('<&>');
  });

  it('draws boxes onto a JPEG of the displayed size', async () => {
    const white = await sharp({ create: { width: 100, height: 120, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const jpeg = await drawDetections(white, [det], 1e7);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([100, 120]);
    const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    // The box edge is coloured, the inside is untouched.
    expect(at(10, 50).some((v) => v < 200)).toBe(true);
    expect(at(35, 60).every((v) => v > 240)).toBe(true);
  });
});
