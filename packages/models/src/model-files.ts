import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ModelError } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';

/** The sha256 of a file on disk, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Registered models' files, fetched from storage by sha256 into a local cache the first time a
 * process needs one. A cached file is checked against its digest once per process, so a file
 * damaged or left by another build is fetched again rather than run.
 */
export class ModelFileCache {
  private readonly ready = new Map<string, Promise<string>>();

  constructor(
    private readonly storage: ObjectStorage,
    readonly dir: string,
  ) {}

  /** Where the file of this digest is (or will be) cached. */
  pathOf(digest: string): string {
    return path.join(this.dir, `${digest}.onnx`);
  }

  /** The local path of the file with this digest, fetched and checked first when needed. */
  file(digest: string): Promise<string> {
    let p = this.ready.get(digest);
    if (!p) {
      p = this.fetch(digest);
      this.ready.set(digest, p);
      p.catch(() => this.ready.delete(digest));
    }
    return p;
  }

  private async fetch(digest: string): Promise<string> {
    const file = this.pathOf(digest);
    if ((await sha256File(file).catch(() => null)) === digest) return file;
    const bytes = await this.storage.get(storageKeys.modelFile(digest));
    if (!bytes) throw new ModelError(`the model file ${digest.slice(0, 12)} is not in storage`);
    if (sha256(bytes) !== digest) throw new ModelError(`the stored model file ${digest.slice(0, 12)} does not match its digest`);
    await mkdir(this.dir, { recursive: true });
    // Written aside, then renamed: a process reading the cache never sees half a file.
    const part = `${file}.${randomBytes(4).toString('hex')}.part`;
    try {
      await writeFile(part, bytes);
      await rename(part, file);
    } finally {
      await rm(part, { force: true });
    }
    return file;
  }
}
