import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MODEL_DIR } from './spotter.js';

/** A model directory with the default model and two more manifests: a stricter one and a broken one. */
export async function rolloutModelDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-models-'));
  await symlink(path.join(MODEL_DIR, 'yolox_nano.onnx'), path.join(dir, 'yolox_nano.onnx'));
  await writeFile(path.join(dir, 'yolox_nano_strict.model.json'), JSON.stringify({ name: 'yolox_nano_strict', file: 'yolox_nano.onnx', score_threshold: 0.5, nms_iou: 0.3 }));
  await writeFile(path.join(dir, 'broken.onnx'), 'not a model');
  await writeFile(path.join(dir, 'broken.model.json'), JSON.stringify({ name: 'broken', file: 'broken.onnx' }));
  return dir;
}
