import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@spotter/config';
import { evalCommand } from '../../apps/cli/src/eval-command.js';
import { DATASET, MODEL_DIR } from './spotter.js';

/** The dataset's image file names, sorted. */
export const datasetFiles = async () => (await readdir(path.join(DATASET, 'images'))).filter((f) => f.endsWith('.jpg')).sort();

/** A YOLO dataset made of some of the shared one's files (symlinked images, copied labels). */
export async function subsetDataset(files: string[]): Promise<string> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'spotter-subset-'));
  await mkdir(path.join(data, 'images'));
  await mkdir(path.join(data, 'labels'));
  await copyFile(path.join(DATASET, 'classes.yaml'), path.join(data, 'classes.yaml'));
  for (const f of files) {
    await symlink(path.join(DATASET, 'images', f), path.join(data, 'images', f));
    const label = f.replace(/\.jpg$/, '.txt');
    await copyFile(path.join(DATASET, 'labels', label), path.join(data, 'labels', label)).catch(() => undefined);
  }
  return data;
}

/**
 * A model directory with the default model's file (and the `files` given, linked in) and a
 * manifest per entry (on the default .onnx unless its fields name another `file`), each
 * evaluated with `spotter eval` on `data` and registered with its report.
 */
export async function evaluatedModelDir(models: Record<string, Record<string, unknown>>, data: string, files: string[] = []): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-quality-models-'));
  for (const file of [path.join(MODEL_DIR, 'yolox_nano.onnx'), ...files]) await symlink(file, path.join(dir, path.basename(file)));
  await mkdir(path.join(dir, 'eval'));
  for (const [name, fields] of Object.entries(models)) {
    await writeFile(path.join(dir, `${name}.model.json`), JSON.stringify({ name, file: 'yolox_nano.onnx', eval_report: `eval/${name}.json`, ...fields }));
  }
  const config = loadConfig({ SPOTTER_MODEL_DIR: dir });
  for (const name of Object.keys(models)) {
    const out = await mkdtemp(path.join(os.tmpdir(), `spotter-eval-${name}-`));
    await evalCommand({ data, out, model: name }, config);
    await copyFile(path.join(out, 'report.json'), path.join(dir, 'eval', `${name}.json`));
  }
  return dir;
}

/** The true boxes of a dataset image, in the pixels of the job's answer. */
export async function truthOf(file: string, width: number, height: number) {
  const text = await readFile(path.join(DATASET, 'labels', file.replace(/\.jpg$/, '.txt')), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [c, cx, cy, w, h] = l.trim().split(/\s+/).map(Number) as [number, number, number, number, number];
      return { class_id: c, box: { x1: (cx - w / 2) * width, y1: (cy - h / 2) * height, x2: (cx + w / 2) * width, y2: (cy + h / 2) * height } };
    });
}

/** An HTTP server that keeps every alert it receives (body and signature header). */
export async function alertReceiver() {
  const alerts: { body: string; signature: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      alerts.push({ body, signature: String(req.headers['spotter-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { alerts, host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}/alerts`, close: () => server.close() };
}
