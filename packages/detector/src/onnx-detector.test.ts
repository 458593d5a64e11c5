import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeToFit } from '@spotter/imaging';
import { ModelManifest } from '@spotter/shared';
import { specFromManifest, type ModelSpec } from '@spotter/vision';
import { OnnxDetector } from './onnx-detector.js';

const root = path.resolve(import.meta.dirname, '../../..');
const MODEL_DIR = path.join(root, 'models');
const IMAGES = path.resolve(root, '../shared/datasets/coco-val128/images');

const spec = (fields: object = {}): ModelSpec => specFromManifest(ModelManifest.parse({ name: 'yolox_nano', file: 'yolox_nano.onnx', ...fields }), 'd39bee73564e');
const MODEL = path.join(MODEL_DIR, 'yolox_nano.onnx');

describe('OnnxDetector with the real YOLOX-nano model', () => {
  let detector: OnnxDetector;
  beforeAll(async () => {
    detector = await OnnxDetector.load(spec(), MODEL, { executionProviders: ['cpu'] });
  });

  it('loads, checks shapes and reports name, version and input size', () => {
    expect(detector.name).toBe('yolox_nano');
    expect(detector.version).toBe('d39bee73564e');
    expect(detector.inputSize).toBe(416);
  });

  it('finds the bear in COCO 285 with a box in original pixels, and respects min_score', async () => {
    const img = await decodeToFit(await readFile(path.join(IMAGES, '000000000285.jpg')), 416, 4e7);
    const { detections, timings } = await detector.detect(img, 0.25);
    expect(detections[0]).toMatchObject({ label: 'bear', class_id: 21 });
    expect(detections[0]!.score).toBeGreaterThan(0.8);
    // Labelled box: centre (0.501, 0.548), size (0.998, 0.881) of 586x640.
    const b = detections[0]!.box;
    expect(b.x1).toBeLessThan(20);
    expect(b.x2).toBeGreaterThan(560);
    expect(b.y2).toBeLessThanOrEqual(640);
    expect(timings.inference).toBeGreaterThan(0);
    const strict = await detector.detect(img, 0.99);
    expect(strict.detections).toEqual([]);
  });

  it('gives the same answer under concurrent calls', async () => {
    const img = await decodeToFit(await readFile(path.join(IMAGES, '000000000139.jpg')), 416, 4e7);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => detector.detect(img, 0.25)));
    expect(b!.detections).toEqual(a!.detections);
    expect(c!.detections).toEqual(a!.detections);
  });

  it('runs several sessions side by side with the same answers as one', async () => {
    const img = await decodeToFit(await readFile(path.join(IMAGES, '000000000139.jpg')), 416, 4e7);
    const pair = await OnnxDetector.load(spec(), MODEL, { executionProviders: ['cpu'], sessions: 2, intraOpThreads: 1 });
    try {
      expect(pair.parallelism).toBe(2);
      const expected = (await detector.detect(img, 0.25)).detections;
      const outs = await Promise.all([1, 2, 3, 4, 5].map((i) => pair.detect(img, 0.25, i % 2 ? 'high' : 'low')));
      for (const o of outs) expect(o.detections).toEqual(expected);
    } finally {
      await pair.close();
    }
  });

  it('keeps a session free for realtime inputs while they come: batch inputs wait, a realtime one does not', async () => {
    const img = await decodeToFit(await readFile(path.join(IMAGES, '000000000139.jpg')), 416, 4e7);
    // A stopped clock: the realtime input below counts as recent however slow the machine is.
    const pair = await OnnxDetector.load(spec(), MODEL, { executionProviders: ['cpu'], sessions: 2, intraOpThreads: 1, clock: () => 0 });
    try {
      await pair.detect(img, 0.25, 'high');
      const finished: string[] = [];
      const batch = [1, 2, 3].map((i) => pair.detect(img, 0.25, 'low').then((o) => (finished.push(`batch ${i}`), o)));
      const realtime = await pair.detect(img, 0.25, 'high').then((o) => (finished.push('realtime'), o));
      const done = await Promise.all(batch);
      // One session stayed free: the realtime input ran beside the first batch image and was
      // done before the second one could start. With both sessions on batch images it would
      // have waited for one of them, and the second batch image would have finished first.
      expect(finished.indexOf('realtime'), finished.join(', ')).toBeLessThan(finished.indexOf('batch 2'));
      expect(finished.indexOf('realtime'), finished.join(', ')).toBeLessThan(finished.indexOf('batch 3'));
      // The batch images still all run.
      expect(done.every((o) => o.detections.length === realtime.detections.length)).toBe(true);
    } finally {
      await pair.close();
    }
  });

  it('refuses a file that is not a model, and a missing file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-model-'));
    await writeFile(path.join(dir, 'junk.onnx'), Buffer.alloc(1000, 7));
    await expect(OnnxDetector.load(spec({ name: 'junk' }), path.join(dir, 'junk.onnx'), { executionProviders: ['cpu'] })).rejects.toThrow(/model "junk" .* does not load/);
    await expect(OnnxDetector.load(spec({ name: 'absent' }), path.join(dir, 'absent.onnx'), { executionProviders: ['cpu'] })).rejects.toThrow(/cannot read/);
  });

  it('applies the manifest score floor and checks the declared input size', async () => {
    const img = await decodeToFit(await readFile(path.join(IMAGES, '000000000139.jpg')), 416, 4e7);
    const strict = await OnnxDetector.load(spec({ score_threshold: 0.6 }), MODEL, { executionProviders: ['cpu'] });
    const loose = await detector.detect(img, 0.25);
    const floored = await strict.detect(img, 0.25);
    await strict.close();
    expect(floored.detections).toEqual(loose.detections.filter((d) => d.score >= 0.6));
    expect(floored.detections.length).toBeLessThan(loose.detections.length);
    await expect(OnnxDetector.load(spec({ input_size: 320 }), MODEL, { executionProviders: ['cpu'] })).rejects.toThrow(/takes 416x416 input, but its manifest says 320/);
  });

  it('refuses the model when its output does not match the configured decoder', async () => {
    await expect(OnnxDetector.load(spec({ format: 'yolov8' }), MODEL, { executionProviders: ['cpu'] })).rejects.toThrow(/unexpected output: expected YOLOv8/);
  });
});
