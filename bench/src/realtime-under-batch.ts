import { crc32 } from 'node:zlib';
import { closedLoop } from './load.js';
import { startStack } from './stack.js';

/** A stored (not compressed) zip of `names` -> bytes: JPEGs do not compress. */
function zipOf(entries: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [n, data] of entries) {
    const name = Buffer.from(n);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(dir, name);
    offset += 30 + name.length + data.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, dirBytes, end]);
}

/**
 * Realtime latency with and without a large batch running: POST /v1/predict at one client
 * on an idle stack, then again while a `batchSize`-image batch (a zip of the dataset,
 * repeated) is being worked through by the same worker.
 */
export async function realtimeUnderBatch(redisUrl: string, images: readonly Buffer[], seconds: number, batchSize = 2000) {
  const stack = await startStack(redisUrl, 1);
  try {
    const idle = await closedLoop(stack.url, images, 1, seconds);
    const zip = zipOf(Array.from({ length: batchSize }, (_, i) => [`img${String(i).padStart(5, '0')}.jpg`, images[i % images.length]!]));
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
