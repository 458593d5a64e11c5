// One-off: what monitoring adds to a worker's per-image time (metrics on the decoded pixels).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@spotter/config';
import { decodeToFit } from '@spotter/imaging';
import { imageObservation } from '@spotter/monitoring';
import { root } from '../../scripts/lib.mjs';
import { loadDefaultDetector } from './limit.js';

const config = loadConfig({ SPOTTER_MODEL_DIR: path.join(root, 'models') });
const detector = await loadDefaultDetector(config);
const dir = path.resolve(root, '..', 'shared', 'datasets', 'coco-val128', 'images');
const files = (await readdir(dir)).sort();
let work = 0;
let monitor = 0;
for (const pass of [0, 1]) {
  for (const f of files) {
    const bytes = await readFile(path.join(dir, f));
    const t0 = performance.now();
    const img = await decodeToFit(bytes, detector.fit, config.images.maxPixels);
    const { detections } = await detector.detect(img, 0.25);
    const t1 = performance.now();
    imageObservation(img, bytes, 'jpeg', detections);
    const t2 = performance.now();
    if (pass === 1) {
      work += t1 - t0;
      monitor += t2 - t1;
    }
  }
}
await detector.close();
console.log(`per image: decode + inference ${(work / files.length).toFixed(2)} ms, monitoring metrics ${(monitor / files.length).toFixed(2)} ms (${((100 * monitor) / work).toFixed(1)}%)`);
