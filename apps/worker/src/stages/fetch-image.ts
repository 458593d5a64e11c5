import { ImageGoneError, type DetectJobData } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';

/** Stage 1: the job's original image from storage (an outage throws and is waited out). */
export async function fetchImage(storage: ObjectStorage, data: DetectJobData): Promise<Buffer> {
  const bytes = await storage.get(data.image.key);
  if (!bytes) throw new ImageGoneError(`the uploaded image of job ${data.id} is no longer in storage`);
  return bytes;
}
