import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { FileStorage } from './file-storage.js';
import { storageKeys, type ObjectStorage } from './object-storage.js';
import { S3Storage } from './s3-storage.js';

// One suite, every adapter: the S3 run talks to the real S3-protocol server of the test set-up.
const s3 = (sse?: { type: 'AES256' | 'aws:kms'; kmsKeyId?: string }) =>
  new S3Storage({
    kind: 's3',
    bucket: inject('s3Bucket'),
    prefix: `conformance-${randomUUID()}`,
    endpoint: inject('s3Endpoint'),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    sse,
  });
const adapters: [string, () => Promise<ObjectStorage>][] = [
  ['filesystem', async () => new FileStorage(await mkdtemp(path.join(os.tmpdir(), 'spotter-fs-')))],
  ['s3', async () => s3()],
  // SPOTTER_S3_SSE: every put asks for server-side encryption (s3rver accepts the header).
  ['s3 with SSE', async () => s3({ type: 'AES256' })],
];

describe.each(adapters)('%s storage', (_name, make) => {
  it('stores, overwrites, reads and deletes objects; a missing key reads as null', async () => {
    const storage = await make();
    await storage.check();
    const id = randomUUID();
    expect(await storage.get(storageKeys.image(id))).toBeNull();
    const bytes = Buffer.from([0xff, 0xd8, 0x00, 0x01, 0x02]);
    await storage.put(storageKeys.image(id), bytes, 'image/jpeg');
    expect(await storage.get(storageKeys.image(id))).toEqual(bytes);
    await storage.put(storageKeys.image(id), Buffer.from('v2'), 'image/jpeg');
    expect((await storage.get(storageKeys.image(id)))?.toString()).toBe('v2');
    await storage.put(storageKeys.result(id), Buffer.from('{}'), 'application/json');
    await storage.delete(storageKeys.image(id));
    expect(await storage.get(storageKeys.image(id))).toBeNull();
    expect((await storage.get(storageKeys.result(id)))?.toString()).toBe('{}');
    await storage.delete(storageKeys.image(id)); // deleting twice is fine
    expect(await storage.size(storageKeys.result(id))).toBe(2);
    expect(await storage.size(storageKeys.image(id))).toBeNull();
  });

  it('stores a local file, writes an object to one and reads it as streams; a missing key writes and reads nothing', async () => {
    const storage = await make();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-files-'));
    const id = randomUUID();
    // Larger than one stream chunk (64 KiB) many times over, as a clip is.
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(path.join(dir, 'in'), bytes);
    await storage.putFile(storageKeys.video(id, 'clip'), path.join(dir, 'in'), 'application/octet-stream');
    expect((await storage.get(storageKeys.video(id, 'clip')))?.equals(bytes)).toBe(true);
    expect(await storage.getToFile(storageKeys.video(id, 'clip'), path.join(dir, 'out'))).toBe(true);
    expect((await readFile(path.join(dir, 'out'))).equals(bytes)).toBe(true);
    expect(await storage.getToFile(storageKeys.video(randomUUID(), 'clip'), path.join(dir, 'none'))).toBe(false);
    const streamed = await storage.getStream(storageKeys.video(id, 'clip'));
    expect(streamed?.bytes).toBe(bytes.length);
    const chunks: Buffer[] = [];
    for await (const chunk of streamed!.body) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(await storage.getStream(storageKeys.video(randomUUID(), 'clip'))).toBeNull();
    expect((await readdir(dir)).sort()).toEqual(['in', 'out']);
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the objects under a folder, with their sizes, and nothing outside it', async () => {
    const storage = await make();
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) await storage.put(storageKeys.pending(id), Buffer.from(id), 'application/json');
    await storage.put(storageKeys.result(ids[0]!), Buffer.from('{}'), 'application/json');
    const listed = [];
    for await (const o of storage.list('pending/')) listed.push(o);
    expect(listed.map((o) => o.key).sort()).toEqual(ids.map((id) => storageKeys.pending(id)).sort());
    expect(listed.every((o) => o.bytes === 36 && o.modifiedAt.getTime() > Date.now() - 60_000)).toBe(true);
    await expect(async () => {
      for await (const _ of storage.list('../')) void _;
    }).rejects.toThrow(/invalid storage prefix/);
  });

  it.each(['../escape', 'images/../../etc/passwd', '/etc/passwd', 'images/', 'images/a b', 'IMAGES/x', 'images/.hidden'])(
    'refuses the key %j',
    async (key) => {
      const storage = await make();
      await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(/invalid storage key/);
      await expect(storage.get(key)).rejects.toThrow(/invalid storage key/);
    },
  );

});

describe('filesystem storage', () => {
  // S3 makes each PUT atomic itself; s3rver (the test server) does not, so this is checked here only.
  it('keeps concurrent writers of the same key whole', async () => {
    const storage = new FileStorage(await mkdtemp(path.join(os.tmpdir(), 'spotter-fs-')));
    const key = storageKeys.result(randomUUID());
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await Promise.all(bodies.map((b) => storage.put(key, b, 'application/octet-stream')));
    const read = await storage.get(key);
    expect(bodies.some((b) => b.equals(read!))).toBe(true);
  });
  it('writes only inside its root, leaves no temporary files, and survives its directories being removed', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'spotter-fs-'));
    const storage = new FileStorage(root);
    const id = randomUUID();
    await storage.put(storageKeys.image(id), Buffer.from('x'), 'image/jpeg');
    expect(await readdir(path.join(root, 'images'))).toEqual([id]);
    await rm(path.join(root, 'images'), { recursive: true });
    await storage.put(storageKeys.image(id), Buffer.from('y'), 'image/jpeg');
    expect((await storage.get(storageKeys.image(id)))?.toString()).toBe('y');
  });
});
