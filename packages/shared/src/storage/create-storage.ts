import type { StorageConfig } from '../config.js';
import { FileStorage } from './file-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { S3Storage } from './s3-storage.js';

/** Picks the storage adapter named by the configuration. */
export function createStorage(cfg: StorageConfig): ObjectStorage {
  return cfg.kind === 'file' ? new FileStorage(cfg.root) : new S3Storage(cfg);
}
