import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';

describe('worker lifecycle', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_WORKER_CONCURRENCY: '2' });
  });
  afterAll(() => spotter?.stop());

  it('on SIGTERM finishes the jobs in hand, exits 0, and leaves the rest queued for the next worker', async () => {
    const image = await datasetImage();
    // The whole backlog is queued before a worker starts: how fast jobs are posted and run cannot matter.
    expect(await spotter.stopWorker(spotter.workers[0]!)).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 32; i++) ids.push((await postForm(`${spotter.url}/v1/jobs`, image)).body.id);
    const worker = await spotter.startWorker();
    // Stop the worker as soon as it has started on the backlog (2 slots: 30 jobs are still queued).
    for (;;) {
      const { body } = await getJson(`${spotter.url}/v1/jobs/${ids[0]}`);
      if (body.status !== 'queued') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await spotter.stopWorker(worker)).toBe(0);
    expect(worker.output()).toContain('finishing jobs in hand');
    const states = await Promise.all(ids.map(async (id) => (await getJson(`${spotter.url}/v1/jobs/${id}`)).body.status as string));
    expect(states).not.toContain('running');
    expect(states).not.toContain('failed');
    expect(states).toContain('queued');

    await spotter.startWorker();
    for (const id of ids) expect((await getJson(`${spotter.url}/v1/jobs/${id}?wait=30`)).body.status).toBe('succeeded');
  });

  it('refuses to start with a model file that does not load, or a missing execution provider', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-badmodel-'));
    await writeFile(path.join(dir, 'yolox_nano.onnx'), 'this is not an onnx model');
    await expect(startSpotter({ SPOTTER_MODEL_DIR: dir })).rejects.toThrow(/cannot start: model .*yolox_nano.* does not load: .*protobuf/);
    await expect(startSpotter({ SPOTTER_EXECUTION_PROVIDERS: 'npu' })).rejects.toThrow(/execution provider .*npu.* is not available/);
    await expect(startSpotter({ SPOTTER_EXECUTION_PROVIDERS: 'cuda,cpu' })).rejects.toThrow(/cannot start: execution provider cuda could not be initialised .*SPOTTER_EXECUTION_PROVIDERS=cpu/);
  });
});
