import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { OnnxDetector } from '@spotter/detector';
import { decodeToFit } from '@spotter/imaging';
import { graphOf, readModel } from '@spotter/quantize';
import { ModelRegistry } from '@spotter/models';
import { specFromManifest } from '@spotter/vision';
import { quantizeCommand, quantizeTable, type QuantizeSummary } from '../../apps/cli/src/quantize-command.js';
import { DATASET, MODEL_DIR } from '../support/spotter.js';

// The real command on the real model: 8 calibration images (min-max, one pass) keep it
// under a minute on 2 cores; the full 64-image measurement is bench/src/quantize.ts.
describe('spotter quantize on yolox_nano with coco-val128', () => {
  let dir: string;
  let summary: QuantizeSummary;
  let table: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-quantize-'));
    const config = loadConfig({ SPOTTER_MODEL_DIR: dir, SPOTTER_INTRA_OP_THREADS: '1' });
    summary = await quantizeCommand({ model: path.join(MODEL_DIR, 'yolox_nano.onnx'), calibration: DATASET, images: 8, out: 'yolox_nano_int8', runs: 6 }, config);
    table = quantizeTable(summary);
    console.log(table);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a valid QDQ model under 1.5 MB with int8 weights', async () => {
    const bytes = await readFile(path.join(dir, 'yolox_nano_int8.onnx'));
    expect(bytes.length).toBeLessThan(1.5e6);
    const ops = graphOf(readModel(bytes)).node.map((n) => n.opType);
    expect(ops.filter((o) => o === 'QuantizeLinear').length).toBeGreaterThan(100);
    expect(summary.quantized_ops.Conv).toBeGreaterThan(60);
  });

  it('registers a manifest the registry accepts, with its evaluation attached', async () => {
    const registry = await ModelRegistry.load(dir, 'yolox_nano');
    const m = registry.get('yolox_nano_int8');
    expect(m).toMatchObject({ file: 'yolox_nano_int8.onnx', format: 'yolox', labels: 'coco', problem: null, eval_report: 'yolox_nano_int8.eval/report.json' });
    const report = JSON.parse(await readFile(path.join(dir, m.eval_report!), 'utf8'));
    // Held out: the 64 odd-indexed images, never a calibration image.
    expect(report.dataset.images).toBe(64);
    expect(report.model.name).toBe('yolox_nano_int8');
    expect(report.baseline.diff.AP).toBeCloseTo(report.metrics.AP - report.baseline.metrics.AP, 3);
  });

  it('loads and detects through the workers\' OnnxDetector', async () => {
    const m = (await ModelRegistry.load(dir, 'yolox_nano')).get('yolox_nano_int8');
    const detector = await OnnxDetector.load(specFromManifest(m, m.version), m.path, { executionProviders: ['cpu'], intraOpThreads: 1 });
    try {
      const img = await decodeToFit(await readFile(path.join(DATASET, 'images', '000000000285.jpg')), detector.fit, 4e8);
      const { detections } = await detector.detect(img, 0.3);
      expect(detections.map((d) => d.label)).toContain('bear');
    } finally {
      await detector.close();
    }
  });

  it('stays within 0.015 AP of the float model on the held-out half', () => {
    const [float, int8] = summary.rows;
    // 8 calibration images here; with the full half (64) the bound is 0.010 (docs/quantization.md).
    expect(float!.metrics.AP! - int8!.metrics.AP!).toBeLessThan(0.015);
    expect(float!.metrics.AP50! - int8!.metrics.AP50!).toBeLessThan(0.04);
  });

  it('times both models in onnxruntime-node and in Chromium, and prints the table', () => {
    for (const r of summary.rows) {
      expect(r.node.median_ms).toBeGreaterThan(0);
      expect(r.browser!.median_ms).toBeGreaterThan(0);
    }
    expect(table).toMatch(/\| yolox_nano_int8 \| 1\.\d\d \| [\d.]+ \(cpu [\d.]+\) \|/);
    expect(table).toContain('int8 - float');
  });
});
