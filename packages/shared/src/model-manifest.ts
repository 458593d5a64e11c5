import { z } from 'zod';

export const ModelName = z.string().regex(/^[a-z0-9_.-]{1,64}$/i, 'letters, digits, "_", "." or "-" (at most 64)');

/**
 * A model as the registry knows it: `<SPOTTER_MODEL_DIR>/<name>.model.json`. Several
 * manifests may share one .onnx file with different settings (a stricter threshold, say).
 */
export const ModelManifest = z.object({
  name: ModelName,
  version: z.string().max(64).optional(),
  /** The .onnx file, relative to the manifest's directory. */
  file: z.string().regex(/^[^/\\]+\.onnx$/, 'a file name in the model directory'),
  /** When given, the file must have this digest or the model is refused. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  format: z.enum(['yolox', 'yolov8']).default('yolox'),
  /** Expected square input size; checked against the file at load. */
  input_size: z.number().int().positive().optional(),
  /** `coco` (80 classes) or the class names in order. */
  labels: z.union([z.literal('coco'), z.array(z.string()).min(1)]).default('coco'),
  /** Floor under every job's min_score. */
  score_threshold: z.number().min(0).max(1).default(0),
  nms_iou: z.number().gt(0).max(1).default(0.45),
  max_detections: z.number().int().positive().max(1000).default(300),
  /**
   * An evaluation report (spotter eval) describing this model, relative to the directory: an
   * absolute path or one leaving the directory is refused, so that a model directory is
   * whole wherever it is mounted.
   */
  eval_report: z
    .string()
    .min(1)
    .refine((p) => !/^([/\\]|[a-z]:)/i.test(p) && !p.split(/[/\\]/).includes('..'), 'a path relative to the model directory, inside it (no absolute path, no "..")')
    .optional(),
  /**
   * User tags (slices `tag: <name>` of the evaluation report) that the promotion gate protects
   * besides overall AP, rare classes and small objects.
   */
  important_tags: z.array(z.string().min(1).max(64)).max(32).default([]),
  /** How much AP a candidate may lose on a protected slice before promotion is refused (default 0.01). */
  gate_tolerance: z.number().min(0).max(1).optional(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

/** A manifest the registry has read, with where its file is and what that file is. */
export interface RegisteredModel extends ModelManifest {
  /** Absolute path of the .onnx file. */
  path: string;
  /** The manifest's version, or the first 12 hex digits of the file's sha256. */
  version: string;
  /**
   * Why the model is not served, in one line; null when it is. The file is missing, its digest
   * does not match the manifest, or its eval_report cannot be read (a gate fails closed).
   */
  problem: string | null;
}
