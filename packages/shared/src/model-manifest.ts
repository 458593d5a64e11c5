import { z } from 'zod';

// No leading "." so that a name is always a valid storage key segment.
export const ModelName = z.string().regex(/^[a-z0-9_-][a-z0-9_.-]{0,63}$/i, 'letters, digits, "_", "." or "-", not starting with "." (at most 64)');

/** What a non-image input is fed with (@spotter/vision's preprocess.ts explains each). */
export const EXTRA_INPUT_SOURCES = ['original_wh', 'original_hw', 'input_wh', 'input_hw', 'scale_wh', 'scale_hw'] as const;

const side = z.number().int().positive().max(8192);
/** A square size S, or [width, height]. */
export const InputSize = z.union([side, z.tuple([side, side])]);

const triple = z.tuple([z.number(), z.number(), z.number()]);

/** Pre-processing settings; each one absent takes the family's default (docs/models.md). */
export const PreprocessManifest = z
  .object({
    resize: z.enum(['letterbox', 'stretch']).optional(),
    pad: z.enum(['top-left', 'center']).optional(),
    pad_value: z.number().min(0).max(255).optional(),
    channels: z.enum(['rgb', 'bgr']).optional(),
    /** value = (pixel * scale - mean) / std, per channel in the model's channel order. */
    scale: z.number().positive().optional(),
    mean: triple.optional(),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).optional(),
    /** Used when the graph's input size is not fixed; checked against it when it is. */
    size: InputSize.optional(),
    /** Non-image inputs by name and what each is fed with. */
    inputs: z.record(z.string().min(1).max(128), z.enum(EXTRA_INPUT_SOURCES)).optional(),
  })
  .strict();
export type PreprocessManifest = z.infer<typeof PreprocessManifest>;

/** Decoder options; absent ones take the family's default. */
export const DecodeManifest = z
  .object({
    scores: z.enum(['as-is', 'sigmoid', 'softmax']).optional(),
    grid_offset: z.number().min(0).max(1).optional(),
  })
  .strict();

/**
 * A model as the registry knows it: `<SPOTTER_MODEL_DIR>/<name>.model.json`, or registered in
 * Spotter's storage (`models add`, `POST /v1/models`). Several manifests may share one .onnx
 * file with different settings (a stricter threshold, say).
 */
export const ModelManifest = z.object({
  name: ModelName,
  version: z.string().max(64).optional(),
  /** The .onnx file, relative to the manifest's directory. */
  file: z.string().regex(/^[^/\\]+\.onnx$/, 'a file name in the model directory'),
  /** When given, the file must have this digest or the model is refused. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** The output layout: a family of @spotter/vision (yolox, ultralytics, end2end, yolov5, detr, gfl) or an alias. */
  format: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a family name such as yolox or ultralytics').default('yolox'),
  /** Expected input size (S or [width, height]); the same as preprocess.size, kept for older manifests. */
  input_size: InputSize.optional(),
  preprocess: PreprocessManifest.default({}),
  decode: DecodeManifest.default({}),
  /** `coco` (80 classes), `coco91` (COCO's 91 original ids, for DETR exports) or the class names in order. */
  labels: z.union([z.literal('coco'), z.literal('coco91'), z.array(z.string().min(1).max(128)).min(1).max(100_000)]).default('coco'),
  /** Floor under every job's min_score. */
  score_threshold: z.number().min(0).max(1).default(0),
  nms_iou: z.number().gt(0).max(1).default(0.45),
  max_detections: z.number().int().positive().max(1000).default(300),
  /**
   * An evaluation report (spotter eval) describing this model: a seed's path relative to the
   * model directory, or a stored model's report id. An absolute path or one leaving the
   * directory is refused, so that a model directory is whole wherever it is mounted.
   */
  eval_report: z
    .string()
    .min(1)
    .max(256)
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

/** A graph input or output as a model file declares it: name, element type (FP32, INT64, ...), shape (-1: any size). */
export const TensorSignature = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) });
export type TensorSignature = z.infer<typeof TensorSignature>;
/** The inputs and outputs a model file declares. */
export const ModelSignature = z.object({ inputs: z.array(TensorSignature), outputs: z.array(TensorSignature) });
export type ModelSignature = z.infer<typeof ModelSignature>;

/** A model registered in Spotter's storage: its manifest with the file's digest and who added it. */
export const StoredModel = z.object({
  manifest: ModelManifest.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** The inputs and outputs the file declares, read when it was added. */
  signature: ModelSignature.nullable().default(null),
  bytes: z.number().int().positive(),
  added_at: z.string(),
  added_by: z.string().nullable(),
});
export type StoredModel = z.infer<typeof StoredModel>;

/** A manifest the registry has read, with where its file is and what that file is. */
export interface RegisteredModel extends ModelManifest {
  /** `seed`: a manifest or file of SPOTTER_MODEL_DIR (read-only); `stored`: registered in storage. */
  source: 'seed' | 'stored';
  /** Absolute path of a seed's .onnx file; for a stored model, where it is cached once fetched. */
  path: string;
  /** The manifest's version, or the first 12 hex digits of the file's sha256. */
  version: string;
  /** The file's sha256, when the file is there. */
  digest: string | null;
  bytes: number | null;
  /**
   * Why the model is not served, in one line; null when it is. The file is missing, its digest
   * does not match the manifest, or its eval_report cannot be read (a gate fails closed).
   */
  problem: string | null;
  /** The inputs and outputs the file declares; null when it cannot be read. */
  signature: ModelSignature | null;
}
