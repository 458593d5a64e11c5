import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { decodeToFit, probeImage } from '@spotter/imaging';
import { imageObservation } from '@spotter/monitoring';
import { FileStorage } from '@spotter/storage';
import { loadDefaultDetector } from './limit.js';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * CPU milliseconds of each stage of one image, run one at a time in this process so that the
 * process's CPU clock (every thread: libvips' and the inference thread's too) counts that
 * stage only. The API's and worker's remaining costs (HTTP, multipart, BullMQ, Redis client,
 * JSON, GC) are what the processes' totals add to these.
 */
export async function measureStageCpu(config: Config, images: readonly Buffer[], count: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-stages-'));
  const storage = new FileStorage(dir);
  const detector = await loadDefaultDetector({ ...config, model: { ...config.model, sessions: 1 } });
  const sums: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const c0 = cpuMs();
    const out = await fn();
    sums[name] = (sums[name] ?? 0) + cpuMs() - c0;
    return out;
  };
  const one = async (i: number) => {
    const bytes = images[i % images.length]!;
    const key = `images/${i}`;
    const probe = await stage('api: probe (sniff, header, structure)', () => probeImage(bytes, config.images.maxPixels));
    await stage('api: storage put', () => storage.put(key, bytes));
    const read = await stage('worker: download (storage get)', () => storage.get(key));
    const img = await stage('worker: decode + resize', () => decodeToFit(read!, detector.fit, config.images.maxPixels));
    const out = await stage('worker: inference', () => detector.detect(img, 0.25));
    // detect() fills the tensor and post-processes on this thread (synchronous: wall = CPU).
    sums['worker: inference']! -= out.timings.preprocess + out.timings.postprocess;
    sums['worker: tensor (letterbox fill)'] = (sums['worker: tensor (letterbox fill)'] ?? 0) + out.timings.preprocess;
    sums['worker: postprocess (decode + NMS)'] = (sums['worker: postprocess (decode + NMS)'] ?? 0) + out.timings.postprocess;
    await stage('worker: monitoring metrics', () => imageObservation(img, read!, probe.format, out.detections));
    await stage('worker: result write (JSON + put)', () => storage.put(`results/${i}.json`, Buffer.from(JSON.stringify({ detections: out.detections, image: { width: img.width, height: img.height } }))));
  };
  try {
    for (let i = 0; i < 8; i++) await one(i); // warm-up
    for (const k of Object.keys(sums)) delete sums[k];
    for (let i = 0; i < count; i++) await one(i);
  } finally {
    await detector.close();
    await rm(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round((v / count) * 100) / 100]));
}
