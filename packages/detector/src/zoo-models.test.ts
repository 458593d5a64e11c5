import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToFit } from '@spotter/imaging';
import { ModelManifest, type Detection } from '@spotter/shared';
import { inspectModel, readOnnxFile, specFromManifest } from '@spotter/vision';
import { OnnxDetector } from './onnx-detector.js';

// Every zoo family through the worker's own path: inspect the file (no hand-written manifest),
// load it, decode and detect on real COCO pictures, compare with the pictures' labels.
const root = path.resolve(import.meta.dirname, '../../..');
const ZOO = path.resolve(root, '../shared/models/zoo');
const DATA = path.resolve(root, '../shared/datasets/coco-val128');

/** A labelled box of the dataset (YOLO: class cx cy w h, normalised) in pixels. */
async function labelled(id: string, width: number, height: number) {
  const rows = (await readFile(path.join(DATA, 'labels', `${id}.txt`), 'utf8')).trim().split('\n');
  return rows.map((r) => {
    const [c, cx, cy, w, h] = r.split(' ').map(Number) as [number, number, number, number, number];
    return { classId: c, x1: (cx - w / 2) * width, y1: (cy - h / 2) * height, x2: (cx + w / 2) * width, y2: (cy + h / 2) * height };
  });
}

function iou(a: Detection['box'], b: { x1: number; y1: number; x2: number; y2: number }) {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

async function load(file: string) {
  const bytes = await readFile(file);
  const info = readOnnxFile(bytes);
  const inspected = inspectModel(info.io, info.metadata);
  const manifest = ModelManifest.parse({ name: path.basename(file, '.onnx'), file: path.basename(file), ...inspected.manifest });
  return { inspected, detector: await OnnxDetector.load(specFromManifest(manifest), file, { executionProviders: ['cpu'] }) };
}

async function detect(detector: OnnxDetector, id: string) {
  const img = await decodeToFit(await readFile(path.join(DATA, 'images', `${id}.jpg`)), detector.fit, 4e7);
  return { img, detections: (await detector.detect(img, 0.25)).detections };
}

const cases = [
  { file: 'yolov8n_int8.onnx', family: 'ultralytics' },
  { file: 'yolo26n_int8.onnx', family: 'end2end' },
  { file: 'deimv2_atto_320.onnx', family: 'detr' },
  { file: 'nanodet_m_320.onnx', family: 'gfl' },
];

describe.each(cases)('$file, registered from what the file says', ({ file, family }) => {
  let detector: OnnxDetector;
  let familyName: string;
  beforeAll(async () => {
    const loaded = await load(path.join(ZOO, file));
    detector = loaded.detector;
    familyName = loaded.inspected.family.name;
  });
  afterAll(() => detector?.close());

  it(`is read as ${family} and finds the labelled bear (285) and stop sign (724) where they are`, async () => {
    expect(familyName).toBe(family);
    for (const [id, classId] of [['000000000285', 21], ['000000000724', 11]] as const) {
      const { img, detections } = await detect(detector, id);
      const truth = (await labelled(id, img.width, img.height)).find((l) => l.classId === classId)!;
      const best = detections.find((d) => d.class_id === classId);
      expect(best, `${file} on ${id}: ${JSON.stringify(detections.slice(0, 3))}`).toBeDefined();
      expect(best!.score).toBeGreaterThan(0.5);
      expect(iou(best!.box, truth)).toBeGreaterThan(0.75);
      // Boxes stay inside the picture, whatever the padding and resize.
      for (const d of detections) expect(d.box.x2 <= img.width && d.box.y2 <= img.height && d.box.x1 >= 0 && d.box.y1 >= 0).toBe(true);
    }
  });
});

describe('the broken export', () => {
  it('loads and is read as ultralytics, and finds nothing at all on the same pictures', async () => {
    const { inspected, detector } = await load(path.join(ZOO, 'broken_yolov8n_static_int8.onnx'));
    try {
      expect(inspected.family.name).toBe('ultralytics');
      for (const id of ['000000000285', '000000000724']) expect((await detect(detector, id)).detections).toEqual([]);
    } finally {
      await detector.close();
    }
  });
});
