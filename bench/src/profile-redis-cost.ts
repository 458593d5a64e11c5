// One-off: what a job's monitoring costs Redis, before and after slice-keyed fields and the
// labelling candidate (`node --import tsx bench/src/profile-redis-cost.ts`). Runs the model
// over the 128 dataset images, then writes their observations through the real ProfileStore
// into a private redis-server and reads the commands, bytes and memory back.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@spotter/config';
import { decodeToFit } from '@spotter/imaging';
import { imageObservation, labelCandidate, profileFields, type Observation } from '@spotter/monitoring';
import { createRedis, createStores, redisKeys } from '@spotter/stores';
import { root, startRedis } from '../../scripts/lib.mjs';
import { loadDefaultDetector } from './limit.js';

const config = loadConfig({ SPOTTER_MODEL_DIR: path.join(root, 'models'), SPOTTER_QUEUE_PREFIX: 'cost' });
const detector = await loadDefaultDetector(config);
const dir = path.resolve(root, '..', 'shared', 'datasets', 'coco-val128', 'images');
const observations: Observation[] = [];
for (const f of (await readdir(dir)).sort()) {
  const bytes = await readFile(path.join(dir, f));
  const img = await decodeToFit(bytes, detector.fit, config.images.maxPixels);
  const { detections } = await detector.detect(img, 0.25);
  observations.push({ ...imageObservation(img, bytes, 'jpeg', detections), failed: 'false', latency_seconds: 0.1, queue_seconds: 0.01 });
}
await detector.close();

// RESP size of one command as sent: *<n>\r\n then $<len>\r\n<arg>\r\n per argument.
const resp = (...args: (string | number)[]) => args.reduce<number>((n, a) => n + `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`.length, `*${args.length}\r\n`.length);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const keys = redisKeys('cost');
const bucket = keys.profileBucket('yolox_nano', 1);
const perJob = observations.map((obs, i) => {
  const fields = [...profileFields(obs)];
  const base = fields.filter(([f]) => !f.startsWith('@'));
  const entry = JSON.stringify(labelCandidate(`job-${i}`, 0, obs));
  const label = keys.labelCandidates('yolox_nano', 0);
  return {
    boxes: (obs.score as number[]).length,
    baseFields: base.length,
    sliceFields: fields.length - base.length,
    baseBytes: base.reduce((n, [f, v]) => n + resp('HINCRBY', bucket, f, v), 0),
    sliceBytes: fields.filter(([f]) => f.startsWith('@')).reduce((n, [f, v]) => n + resp('HINCRBY', bucket, f, v), 0),
    labelBytes: resp('ZADD', label, 0.123456789, entry) + resp('ZREMRANGEBYRANK', label, 0, -501) + resp('EXPIRE', label, 2592000),
    entryBytes: Buffer.byteLength(entry),
  };
});

const redis = await startRedis(await mkdtemp(path.join(os.tmpdir(), 'spotter-cost-')));
const client = createRedis(redis.url, 'api');
await new Promise((r) => client.once('ready', r));
try {
  const { profiles } = createStores(client, loadConfig({ REDIS_URL: redis.url, SPOTTER_QUEUE_PREFIX: 'cost' }));
  // 128 jobs in one bucket (one busy minute), all of them labelling candidates of one hour.
  for (const [i, obs] of observations.entries()) await profiles.record('yolox_nano', obs, { now: 60_000, job: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, finishedAt: 0 } });
  const base = keys.profileBucket('yolox_nano', 1);
  const slices = keys.profileSlices('yolox_nano', 1);
  // For comparison: every field in one hash, as if slices shared the bucket's hash.
  const together = 'cost-one-hash';
  for (const obs of observations) {
    const m = client.multi();
    for (const [f, n] of profileFields(obs)) m.hincrby(together, f, n);
    await m.exec();
  }
  const memory = async (key: string) => Number(await client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  const encoding = (key: string) => client.call('OBJECT', 'ENCODING', key);
  const line = async (key: string) => `${await client.hlen(key)} fields, ${await memory(key)} bytes (${await encoding(key)})`;
  const labelMem = await memory(keys.labelCandidates('yolox_nano', 0));
  const r = (v: number) => Math.round(v * 10) / 10;
  console.log(`per job (128 COCO images, ${r(mean(perJob.map((j) => j.boxes)))} boxes >= 0.25 on average):`);
  console.log(`  profile HINCRBYs: ${r(mean(perJob.map((j) => j.baseFields)))} before, +${r(mean(perJob.map((j) => j.sliceFields)))} slice fields`);
  console.log(`  bytes sent: ${r(mean(perJob.map((j) => j.baseBytes)))} before, +${r(mean(perJob.map((j) => j.sliceBytes)))} slice fields, +${r(mean(perJob.map((j) => j.labelBytes)))} labelling candidate (entry ${r(mean(perJob.map((j) => j.entryBytes)))} bytes); still one MULTI round trip`);
  console.log(`one bucket with 128 jobs: ${await line(base)} as before, plus its slice hash ${await line(slices)}; in one hash it would be ${await line(together)}`);
  console.log(`labelling candidates of 128 jobs: ${labelMem} bytes (${r(labelMem / 128)} per job; at most 500 per model and hour)`);
} finally {
  client.disconnect();
  await redis.stop();
}
