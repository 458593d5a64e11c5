import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertValidKey, type ObjectStorage } from './object-storage.js';

/** Filesystem adapter: one file per key under `root`, written atomically. */
export class FileStorage implements ObjectStorage {
  readonly describe: string;
  /** Directories known to exist: one mkdir per prefix, not one per write. */
  private readonly made = new Set<string>();
  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.describe = `file://${this.root}`;
  }

  private pathOf(key: string) {
    assertValidKey(key);
    const p = path.resolve(this.root, key);
    // Belt and braces: the key pattern already forbids this.
    if (!p.startsWith(this.root + path.sep)) throw new Error(`storage key escapes the root: ${key}`);
    return p;
  }

  async put(key: string, body: Buffer, _contentType?: string): Promise<void> {
    const p = this.pathOf(key);
    const dir = path.dirname(p);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    // Write then rename so readers never see a half-written object.
    const tmp = `${p}.${randomUUID()}.tmp`;
    try {
      await writeFile(tmp, body);
    } catch (err) {
      // The directory was removed behind our back: make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, body);
    }
    await rename(tmp, p);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.probe-${randomUUID()}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  }
}
