import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * A model as the registry knows it: `<SPOTTER_MODEL_DIR>/<name>.model.json`. Several
 * manifests may share one .onnx file with different settings (a stricter threshold, say).
 */
export const ModelManifest = z.object({
  name: z.string().regex(/^[a-z0-9_.-]{1,64}$/i),
  version: z.string().max(64).optional(),
  /** The .onnx file, relative to the manifest's directory. */
  file: z.string().regex(/^[^/\\]+\.onnx$/, 'a file name in the model directory'),
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
  /** An evaluation report (spotter eval) describing this model, relative to the directory. */
  eval_report: z.string().optional(),
});
export type ModelManifest = z.infer<typeof ModelManifest> & { path: string };

export class ModelRegistryError extends Error {
  override name = 'ModelRegistryError';
}

/**
 * Reads every `*.model.json` of `dir`. The default model needs no manifest: a plain
 * `<default>.onnx` is registered as a YOLOX COCO model.
 */
export async function loadModelRegistry(dir: string, defaultName: string): Promise<Map<string, ModelManifest>> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const models = new Map<string, ModelManifest>();
  for (const f of files.filter((x) => x.endsWith('.model.json')).sort()) {
    const parsed = ModelManifest.safeParse(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
    if (!parsed.success) throw new ModelRegistryError(`${f}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (models.has(parsed.data.name)) throw new ModelRegistryError(`${f}: model "${parsed.data.name}" is declared twice`);
    models.set(parsed.data.name, { ...parsed.data, path: path.join(dir, parsed.data.file) });
  }
  if (!models.has(defaultName)) {
    models.set(defaultName, { ...ModelManifest.parse({ name: defaultName, file: `${defaultName}.onnx` }), path: path.join(dir, `${defaultName}.onnx`) });
  }
  return models;
}
