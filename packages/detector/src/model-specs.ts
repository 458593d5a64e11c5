import type { ModelManifest } from '@spotter/shared';
import { COCO_LABELS } from './coco-labels.js';
import type { ModelSpec } from './onnx-detector.js';

/** How to pre- and post-process a model described by a registry manifest. */
export function specFromManifest(m: ModelManifest): ModelSpec {
  return {
    name: m.name,
    path: m.path,
    format: m.format,
    labels: m.labels === 'coco' ? COCO_LABELS : m.labels,
    // YOLOX exports take BGR 0..255; Ultralytics exports RGB scaled to 0..1.
    bgr: m.format === 'yolox',
    pixelScale: m.format === 'yolox' ? 1 : 1 / 255,
    iouThreshold: m.nms_iou,
    maxDetections: m.max_detections,
    minScore: m.score_threshold,
    ...(m.input_size ? { inputSize: m.input_size } : {}),
  };
}
