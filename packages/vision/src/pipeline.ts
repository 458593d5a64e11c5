import type { Detection } from '@spotter/shared';
import { fillLetterbox } from './letterbox.js';
import type { ModelSpec } from './model-spec.js';
import { nonMaxSuppression } from './nms.js';
import { outputDecoders } from './output-decoders.js';

/** Pixels already resized to fit the model input, RGB, row-major (the worker's decodeToFit, or a canvas). */
export interface ModelInput {
  /** Size of the original as displayed. */
  width: number;
  height: number;
  pixels: Uint8Array;
  fitWidth: number;
  fitHeight: number;
  /** fitted / original: divide model coordinates by this to get original pixels. */
  scale: number;
}

/** The fitted size of a `width` x `height` image for a square `size` input (YOLOX rounding: int(w * r)). */
export function fitSize(width: number, height: number, size: number) {
  const scale = Math.min(size / width, size / height);
  return { scale, fitWidth: Math.max(1, Math.floor(width * scale)), fitHeight: Math.max(1, Math.floor(height * scale)) };
}

/** The model's input tensor `[1, 3, size, size]` for a fitted image. */
export function preprocess(img: ModelInput, spec: Pick<ModelSpec, 'bgr' | 'pixelScale'>, size: number): Float32Array {
  const tensor = fillLetterbox(img.pixels, img.fitWidth, img.fitHeight, size, new Float32Array(3 * size * size), spec.bgr);
  if (spec.pixelScale !== 1) for (let i = 0; i < tensor.length; i++) tensor[i]! *= spec.pixelScale;
  return tensor;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Raw output -> labelled boxes in the original image's pixels: decode, class-wise NMS, rescale. */
export function postprocess(output: Float32Array, dims: readonly number[], img: Pick<ModelInput, 'width' | 'height' | 'scale'>, spec: ModelSpec, size: number, minScore: number): Detection[] {
  const candidates = outputDecoders[spec.format].decode(output, dims, size, Math.max(minScore, spec.minScore));
  const kept = nonMaxSuppression(candidates, spec.iouThreshold, spec.maxDetections);
  const clampX = (v: number) => round2(Math.min(Math.max(v / img.scale, 0), img.width));
  const clampY = (v: number) => round2(Math.min(Math.max(v / img.scale, 0), img.height));
  return kept.map((c) => ({
    label: spec.labels[c.classId] ?? `class_${c.classId}`,
    class_id: c.classId,
    score: Math.round(c.score * 10000) / 10000,
    box: { x1: clampX(c.x1), y1: clampY(c.y1), x2: clampX(c.x2), y2: clampY(c.y2) },
  }));
}
