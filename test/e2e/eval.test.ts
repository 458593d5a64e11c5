import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { evalCommand } from '../../apps/cli/src/eval-command.js';
import { DATASET, MODEL_DIR } from '../support/spotter.js';

const config = loadConfig({ SPOTTER_MODEL_DIR: MODEL_DIR });

describe('spotter eval on coco-val128 with the default model', () => {
  let out: string;
  let report: Awaited<ReturnType<typeof evalCommand>>;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'spotter-eval-'));
    report = await evalCommand({ data: DATASET, out }, config);
  });

  it('reports AP@[.5:.95] within 0.01 of the pycocotools figure (0.341)', () => {
    expect(report.dataset).toMatchObject({ images: 128, objects: 898 });
    expect(Math.abs(report.metrics.AP! - 0.341)).toBeLessThan(0.01);
    expect(report.metrics.AP50!).toBeGreaterThan(report.metrics.AP!);
    expect(report.per_class.length).toBe(73);
  });

  it('evaluates its own predictions file to exactly the same numbers', async () => {
    const again = await evalCommand({ data: DATASET, out: path.join(out, 'again'), predictions: path.join(out, 'predictions.json') }, config);
    expect(again.metrics).toEqual(report.metrics);
    expect(again.per_class).toEqual(report.per_class);
  });

  it('writes an HTML report that a browser renders with its tables and plots', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(`file://${path.join(out, 'report.html')}`);
      expect(await page.locator('#metrics tr').count()).toBe(12);
      expect(await page.locator('#per-class tbody tr').count()).toBe(73);
      expect(await page.locator('svg[aria-label="precision-recall curves"] polyline').count()).toBe(2);
      expect(await page.locator('svg[aria-label="AP per class"] rect').count()).toBe(73);
      const shot = await page.screenshot({ path: path.join(out, 'report.png') });
      const { data, info } = await sharp(shot).greyscale().raw().toBuffer({ resolveWithObject: true });
      // Not blank: a good share of pixels is ink, not background.
      const dark = data.filter((v) => v < 200).length / (info.width * info.height);
      expect(dark).toBeGreaterThan(0.02);
    } finally {
      await browser.close();
    }
  });
});

describe('spotter eval --predictions on a hand-made COCO dataset', () => {
  it('computes the hand-worked AP exactly', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-coco-'));
    await mkdir(path.join(dir, 'images'));
    await mkdir(path.join(dir, 'annotations'));
    await writeFile(path.join(dir, 'images', 'blank.png'), await sharp({ create: { width: 200, height: 200, channels: 3, background: '#fff' } }).png().toBuffer());
    const ann = {
      images: [{ id: 1, file_name: 'blank.png', width: 200, height: 200 }],
      categories: [{ id: 7, name: 'thing' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 7, bbox: [10, 10, 100, 100], area: 10000, iscrowd: 0 },
        { id: 2, image_id: 1, category_id: 7, bbox: [120, 120, 60, 60], area: 3600, iscrowd: 0 },
      ],
    };
    await writeFile(path.join(dir, 'annotations', 'instances.json'), JSON.stringify(ann));
    // TP (0.9), FP (0.8), TP (0.7): AP50 = (51 + 50 * 2/3) / 101.
    const preds = [
      { image_id: 1, category_id: 7, bbox: [10, 10, 100, 100], score: 0.9 },
      { image_id: 1, category_id: 7, bbox: [0, 150, 40, 40], score: 0.8 },
      { image_id: 1, category_id: 7, bbox: [120, 120, 60, 60], score: 0.7 },
    ];
    await writeFile(path.join(dir, 'preds.json'), JSON.stringify(preds));
    const report = await evalCommand({ data: dir, out: path.join(dir, 'out'), predictions: path.join(dir, 'preds.json') }, config);
    expect(report.metrics.AP50).toBeCloseTo((51 + 50 * (2 / 3)) / 101, 4);
    expect(JSON.parse(await readFile(path.join(dir, 'out', 'report.json'), 'utf8')).metrics).toEqual(report.metrics);
  });
});
