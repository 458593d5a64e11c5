import type { Config } from '@spotter/config';
import type { ObjectStorage } from '@spotter/storage';
import type { Stores } from '@spotter/stores';
import { BatchFiles } from './batch-files.js';
import { JobFiles } from './job-files.js';

/** Everything the job lifecycle touches, built once per process from its stores and storage. */
export function lifecycleDeps(stores: Stores, storage: ObjectStorage, config: Config) {
  return {
    jobs: stores.jobs,
    queue: stores.queue,
    batches: stores.batches,
    webhooks: stores.webhooks,
    profiles: stores.profiles,
    files: new JobFiles(storage),
    batchFiles: new BatchFiles(storage),
    retention: config.images.retention,
  };
}
export type Lifecycle = ReturnType<typeof lifecycleDeps>;
