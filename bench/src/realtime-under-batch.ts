import { makeZip } from '../../test/support/zip.js';
import { closedLoop } from './load.js';
import { startStack } from './stack.js';

/**
 * Realtime latency with and without a large batch running: POST /v1/predict at one client
 * on an idle stack, then again while a `batchSize`-image batch (a zip of the dataset,
 * repeated) is being worked through by the same worker.
 */
export async function realtimeUnderBatch(redisUrl: string, images: readonly Buffer[], seconds: number, batchSize = 2000) {
  const stack = await startStack(redisUrl, 1);
  try {
    const idle = await closedLoop(stack.url, images, 1, seconds);
    const zip = makeZip(Array.from({ length: batchSize }, (_, i) => ({ name: `img${String(i).padStart(5, '0')}.jpg`, data: images[i % images.length]! })));
    const form = new FormData();
    form.append('archive', new Blob([zip]), 'batch.zip');
    const created = (await (await fetch(`${stack.url}/v1/batches`, { method: 'POST', body: form })).json()) as { id: string; counts: { total: number } };
    const progress = async () => ((await (await fetch(`${stack.url}/v1/batches/${created.id}`)).json()) as { counts: { succeeded: number; queued: number } }).counts;
    // Let the batch fill the worker first.
    await new Promise((r) => setTimeout(r, 2000));
    const before = await progress();
    const t0 = Date.now();
    const busy = await closedLoop(stack.url, images, 1, seconds);
    const after = await progress();
    const batchRate = (after.succeeded - before.succeeded) / ((Date.now() - t0) / 1000);
    return {
      batch_images: created.counts.total,
      idle: { latency_ms: idle.latency_ms, throughput_per_s: idle.throughput_per_s },
      during_batch: { latency_ms: busy.latency_ms, throughput_per_s: busy.throughput_per_s, batch_images_per_s: Math.round(batchRate * 10) / 10, batch_still_queued: after.queued },
      p95_ratio: Math.round((busy.latency_ms.p95 / idle.latency_ms.p95) * 100) / 100,
    };
  } finally {
    await stack.stop();
  }
}
