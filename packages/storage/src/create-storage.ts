import type { StorageConfig } from '@spotter/config';
import { FileStorage } from './file-storage.js';
import type { ObjectStorage } from './object-storage.js';

/** Picks the storage adapter named by the configuration (the S3 SDK is loaded only when used). */
export async function createStorage(cfg: StorageConfig): Promise<ObjectStorage> {
  if (cfg.kind === 'file') return new FileStorage(cfg.root);
  const { S3Storage } = await import('./s3-storage.js');
  return new S3Storage(cfg);
}
