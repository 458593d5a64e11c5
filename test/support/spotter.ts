import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort, launchService, root, stopService } from '../../scripts/lib.mjs';

export const DATASET = path.resolve(root, '..', 'shared', 'datasets', 'coco-val128');
export const MODEL_DIR = path.resolve(root, 'models');

export interface SpotterProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const launch = (name: string, entry: string, env: NodeJS.ProcessEnv, readyLine: RegExp) =>
  launchService(name, entry, env, readyLine) as Promise<SpotterProcess>;

export interface Spotter {
  url: string;
  env: NodeJS.ProcessEnv;
  storageDir: string;
  api: SpotterProcess;
  workers: SpotterProcess[];
  startWorker(): Promise<SpotterProcess>;
  stopWorker(w: SpotterProcess): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts the real API and worker processes against the run's Redis, isolated by a
 * queue prefix of their own; file storage in a temp dir unless `env` says otherwise.
 */
/** The environment of a test stack: the run's Redis under a fresh queue prefix, file storage in `storageDir`. */
export function stackEnv(port: number, storageDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: inject('redisUrl'),
    SPOTTER_QUEUE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    SPOTTER_STORAGE: `file://${storageDir}`,
    SPOTTER_MODEL_DIR: MODEL_DIR,
    SPOTTER_METRICS_PORT: '0',
  };
}

export async function startSpotter(env: Record<string, string> = {}, { workers = 1 } = {}): Promise<Spotter> {
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'spotter-data-'));
  const port = await freePort();
  const fullEnv: NodeJS.ProcessEnv = { ...stackEnv(port, storageDir), LOG_LEVEL: 'info', ...env };
  const startWorker = () => launch('worker', 'apps/worker/src/main.ts', fullEnv, /spotter worker ready/);
  const started = await Promise.all(Array.from({ length: workers }, startWorker));
  const api = await launch('api', 'apps/api/src/main.ts', fullEnv, /spotter api listening/);
  const stopProcess = (p: SpotterProcess) => stopService(p) as Promise<number | null>;
  return {
    url: `http://127.0.0.1:${port}`,
    env: fullEnv,
    storageDir,
    api,
    workers: started,
    startWorker: async () => {
      const w = await startWorker();
      started.push(w);
      return w;
    },
    stopWorker: stopProcess,
    stop: async () => {
      await Promise.all([api, ...started].map(stopProcess));
    },
  };
}

export interface LabelledImage {
  file: string;
  width: number;
  height: number;
  boxes: { classId: number; x1: number; y1: number; x2: number; y2: number }[];
}

/** The dataset's images with their boxes in pixels (YOLO txt -> corners). */
export async function loadDataset(limit = Infinity): Promise<LabelledImage[]> {
  const sharp = (await import('sharp')).default;
  const files = (await readdir(path.join(DATASET, 'images'))).filter((f) => f.endsWith('.jpg')).sort().slice(0, limit);
  return Promise.all(
    files.map(async (file) => {
      const imagePath = path.join(DATASET, 'images', file);
      const { width = 0, height = 0 } = await sharp(imagePath).metadata();
      const text = await readFile(path.join(DATASET, 'labels', file.replace(/\.jpg$/, '.txt')), 'utf8').catch(() => '');
      const boxes = text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const [c, cx, cy, w, h] = l.trim().split(/\s+/).map(Number) as [number, number, number, number, number];
          return { classId: c, x1: (cx - w / 2) * width, y1: (cy - h / 2) * height, x2: (cx + w / 2) * width, y2: (cy + h / 2) * height };
        });
      return { file: imagePath, width, height, boxes };
    }),
  );
}

/** POSTs a multipart form with an `image` part (or none) and text fields. */
export async function postForm(
  url: string,
  image: Buffer | null,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
  filename = 'upload.jpg',
) {
  const form = new FormData();
  if (image) form.append('image', new Blob([image]), filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(url, { method: 'POST', body: form, headers });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? ((await res.json()) as any) : Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
