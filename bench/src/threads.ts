// One-off: the in-process limit for worker concurrency x ONNX Runtime intra-op threads.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@spotter/config';
import { root } from '../../scripts/lib.mjs';
import { measureLimit } from './limit.js';

const dir = path.resolve(root, '..', 'shared', 'datasets', 'coco-val128', 'images');
const images = await Promise.all((await readdir(dir)).sort().map((f) => readFile(path.join(dir, f))));
for (const [conc, threads] of [[1, 1], [1, 2], [2, 1], [2, 2], [3, 1], [4, 1]] as const) {
  const config = loadConfig({ SPOTTER_MODEL_DIR: path.join(root, 'models'), SPOTTER_INTRA_OP_THREADS: String(threads) });
  const r = await measureLimit(config, images, conc, 192);
  console.log(`concurrency ${conc} intra-op ${threads}: ${r.images_per_s} img/s, total p50 ${r.ms.total!.p50} ms, inference p50 ${r.ms.inference!.p50} ms, decode p50 ${r.ms.decode!.p50}`);
}
