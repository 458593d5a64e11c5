import path from 'node:path';
import { COCO_LABELS } from './coco-labels.js';
import type { ModelSpec } from './onnx-detector.js';

/** Models Spotter knows how to pre- and post-process, by name. */
const BUILTIN: Record<string, Omit<ModelSpec, 'path' | 'name'>> = {
  yolox_nano: {
    format: 'yolox',
    labels: COCO_LABELS,
    bgr: true,
    pixelScale: 1,
    // The YOLOX demo's NMS threshold.
    iouThreshold: 0.45,
    maxDetections: 300,
  },
};

/** The spec of a named model whose file is `<dir>/<name>.onnx`. */
export function modelSpec(name: string, dir: string): ModelSpec {
  const builtin = BUILTIN[name] ?? BUILTIN.yolox_nano!;
  return { name, path: path.join(dir, `${name}.onnx`), ...builtin };
}
