import { ModelError, type ModelManifest } from '@spotter/shared';
import { COCO_LABELS } from './coco-labels.js';
import type { OutputFormat } from './output-decoders.js';

/** What pre- and post-processing need to know about a model. */
export interface ModelSpec {
  name: string;
  /** Version shown in results (the manifest's, or a prefix of the file's sha256). */
  version: string;
  format: OutputFormat;
  labels: readonly string[];
  /** Channel order the model was trained with (YOLOX: BGR; Ultralytics: RGB scaled 0..1). */
  bgr: boolean;
  /** Pixel scale: 1 for YOLOX (0..255), 1/255 for Ultralytics exports. */
  pixelScale: number;
  iouThreshold: number;
  maxDetections: number;
  /** Floor under the caller's min score. */
  minScore: number;
  /** Expected input size; the file's must match. */
  inputSize?: number;
}

/** How to pre- and post-process a model described by a registry manifest. */
export function specFromManifest(m: ModelManifest & { version?: string | undefined }, version = m.version ?? 'unversioned'): ModelSpec {
  return {
    name: m.name,
    version,
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

/** What onnxruntime (Node or web) says about a session's inputs. */
export interface SessionInputs {
  inputNames: readonly string[];
  inputMetadata: readonly { isTensor: boolean; shape?: readonly (number | string)[] }[];
}

/**
 * The square input size S of a loaded model: it must take one `[1, 3, S, S]` tensor, and S
 * must be the manifest's `input_size` when that is given. ModelError otherwise.
 */
export function inputSizeOf(session: SessionInputs, spec: ModelSpec, file: string): number {
  const meta = session.inputMetadata[0];
  const shape = meta && meta.isTensor ? (meta.shape ?? []) : [];
  const [n, c, h, w] = shape;
  if (session.inputNames.length !== 1 || shape.length !== 4 || c !== 3 || typeof h !== 'number' || h !== w || (n !== 1 && typeof n === 'number')) {
    throw new ModelError(
      `model "${spec.name}" (${file}) has an unexpected input: expected one float32 [1, 3, S, S] tensor, got [${shape.join(', ')}]`,
    );
  }
  if (spec.inputSize !== undefined && spec.inputSize !== h) {
    throw new ModelError(`model "${spec.name}" (${file}) takes ${h}x${h} input, but its manifest says ${spec.inputSize}`);
  }
  return h;
}
