import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { estimateJpegQuality, outputMetrics, pixelMetrics, type Observation } from './image-metrics.js';
import { binOf, METRIC_BY_NAME } from './metric-catalog.js';
import { addObservation, emptyProfile, mergeProfiles } from './profile.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128/images');

async function rgb(buf: Buffer) {
  const { data, info } = await sharp(buf).resize(416, 416, { fit: 'inside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return pixelMetrics(data, info.width, info.height);
}

describe('metric catalog', () => {
  it('bins numeric values by fixed edges and categories by name, with an overflow bin', () => {
    const brightness = METRIC_BY_NAME.get('brightness')!;
    expect(binOf(brightness, 0)).toBe(0);
    expect(binOf(brightness, 254.9)).toBe(31);
    expect(binOf(brightness, 300)).toBe(31);
    const format = METRIC_BY_NAME.get('format')!;
    expect(binOf(format, 'png')).toBe(1);
    expect(binOf(format, 'bmp')).toBe(7);
  });
});

describe('image metrics', () => {
  it('measure flat grey, noise, colour and darkness as expected', async () => {
    const grey = await rgb(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer());
    expect(grey).toMatchObject({ contrast: 0, sharpness: 0, entropy: 0, grayscale: 'true' });
    expect(grey.brightness).toBeCloseTo(128, 0);
    const photo = await readFile(path.join(IMAGES, '000000000139.jpg'));
    const p = await rgb(photo);
    expect(p.grayscale).toBe('false');
    expect(p.entropy).toBeGreaterThan(6);
    const dark = await rgb(await sharp(photo).linear(0.3, 0).jpeg().toBuffer());
    expect(dark.brightness).toBeLessThan(p.brightness * 0.4);
    const blurred = await rgb(await sharp(photo).blur(4).jpeg().toBuffer());
    expect(blurred.sharpness).toBeLessThan(p.sharpness / 5);
    expect((await rgb(await sharp(photo).grayscale().jpeg().toBuffer())).grayscale).toBe('true');
  });

  it('estimate JPEG quality from the quantisation table', async () => {
    const photo = await readFile(path.join(IMAGES, '000000000139.jpg'));
    for (const q of [20, 50, 75, 95]) {
      const est = estimateJpegQuality(await sharp(photo).jpeg({ quality: q, mozjpeg: false }).toBuffer());
      expect(Math.abs(est! - q), `quality ${q} estimated ${est}`).toBeLessThanOrEqual(3);
    }
    expect(estimateJpegQuality(await sharp(photo).png().toBuffer())).toBeNull();
  });

  it('summarise detections: counts, empty flag, per-box values, border boxes', () => {
    const d = (score: number, x1: number, y1: number, x2: number, y2: number, class_id = 0) => ({ label: '', class_id, score, box: { x1, y1, x2, y2 } });
    const obs = outputMetrics([d(0.9, 0, 0, 50, 100), d(0.4, 20, 20, 40, 40, 3), d(0.1, 1, 1, 2, 2)], 200, 100);
    expect(obs).toMatchObject({ detections_025: 2, detections_050: 1, empty: 'false', top1_score: 0.9, class: [0, 3], border_boxes: 1 });
    expect(obs.box_relative_area).toEqual([0.25, 0.02]);
    expect(outputMetrics([], 10, 10)).toMatchObject({ detections_025: 0, empty: 'true' });
  });
});

describe('profiles', () => {
  it('merged from three workers equal the profile of one', async () => {
    const files = (await readdir(IMAGES)).sort().slice(0, 12);
    const observations: Observation[] = [];
    for (const f of files) {
      const buf = await readFile(path.join(IMAGES, f));
      observations.push({ ...(await rgb(buf)), file_bytes: buf.length, format: 'jpeg', jpeg_quality: estimateJpegQuality(buf) ?? 0 });
    }
    const one = observations.reduce((p, o) => addObservation(p, o), emptyProfile());
    const workers = [0, 1, 2].map((w) => observations.filter((_, i) => i % 3 === w).reduce((p, o) => addObservation(p, o), emptyProfile()));
    expect(mergeProfiles(...workers)).toEqual(one);
    expect(one.images).toBe(12);
  });
});
