import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';

interface Drift {
  status: string;
  reference: { id: string; count: number } | null;
  window: { count: number };
  metrics: { name: string; kind: string; test: string; status: string; score: number; p_value: number | null }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('monitoring: input and output drift through the real API and workers', () => {
  let spotter: Spotter;
  let reference: Buffer[];
  let holdout: Buffer[];

  /** Serves a batch of images (8 in flight) in its own time window; returns the window. */
  async function serve(images: Buffer[]) {
    await sleep(1200); // profiles are cut into 1 s buckets here: start in a fresh one
    const from = new Date();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < images.length) {
          const { body } = await postForm(`${spotter.url}/v1/jobs`, images[next++]!);
          expect((await getJson(`${spotter.url}/v1/jobs/${body.id}?wait=30`)).body.status).toBe('succeeded');
        }
      }),
    );
    return { from: from.toISOString(), to: new Date(Date.now() + 1).toISOString() };
  }

  async function drift(images: Buffer[]): Promise<Drift> {
    const w = await serve(images);
    return (await getJson(`${spotter.url}/v1/monitoring/drift?from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}`)).body;
  }

  const statusOf = (d: Drift, name: string) => d.metrics.find((m) => m.name === name)?.status;
  const flagged = (d: Drift) => d.metrics.filter((m) => m.status === 'alarm' || m.status === 'warn').map((m) => `${m.name}:${m.status}`);

  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_MONITOR_BUCKET_S: '1' });
    const files = (await readdir(path.join(DATASET, 'images'))).sort();
    const all = await Promise.all(files.map((f) => readFile(path.join(DATASET, 'images', f))));
    reference = all.filter((_, i) => i % 2 === 0);
    holdout = all.filter((_, i) => i % 2 === 1);
    const w = await serve(reference);
    const res = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(w) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { count: number }).count).toBe(64);
  }, 180_000);
  afterAll(() => spotter?.stop());

  it('raises no alarm on the other half of the same dataset', async () => {
    const d = await drift(holdout);
    expect(d.reference!.count).toBe(64);
    expect(d.window.count).toBe(64);
    expect(d.status, flagged(d).join(', ')).not.toBe('alarm');
  });

  it.each([
    ['darkened', (b: Buffer) => sharp(b).linear(0.35, 0).jpeg({ quality: 90 }).toBuffer(), 'brightness'],
    ['blurred', (b: Buffer) => sharp(b).blur(4).jpeg({ quality: 90 }).toBuffer(), 'sharpness'],
    ['shrunk to thumbnails', (b: Buffer) => sharp(b).resize(120).jpeg({ quality: 90 }).toBuffer(), 'width'],
    ['turned grayscale', (b: Buffer) => sharp(b).grayscale().jpeg({ quality: 90 }).toBuffer(), 'grayscale'],
    ['recompressed at low JPEG quality', (b: Buffer) => sharp(b).jpeg({ quality: 12, mozjpeg: false }).toBuffer(), 'jpeg_quality'],
  ])('alarms on the matching input metric when images are %s', async (_label, transform, metric) => {
    const d = await drift(await Promise.all(holdout.map(transform)));
    expect(d.status, flagged(d).join(', ')).toBe('alarm');
    expect(statusOf(d, metric), flagged(d).join(', ')).toBe('alarm');
    console.info(`${_label}: ${flagged(d).join(', ')}`);
  });
});
