import { ImageGoneError, IMAGE_FORMAT_LIST, UnsupportedImageError, type DetectJobData, type ImageFormat } from '@spotter/shared';
import { sniffFormat } from '@spotter/imaging';
import type { ObjectStorage } from '@spotter/storage';

/**
 * Stage 1: the job's original image (or input tensor) from storage (an outage throws and is
 * waited out), with its format judged from the bytes (a batch's intake objects were never probed).
 */
export async function fetchImage(storage: ObjectStorage, data: DetectJobData): Promise<{ bytes: Buffer; format: ImageFormat | 'tensor' }> {
  const bytes = await storage.get(data.image.key);
  if (!bytes) throw new ImageGoneError(`the ${data.tensor ? 'input tensor' : 'image'} of job ${data.id} is no longer in storage`);
  if (data.tensor) return { bytes, format: 'tensor' };
  const format = sniffFormat(bytes);
  if (!format) throw new UnsupportedImageError(`the file is not an image Spotter reads (${IMAGE_FORMAT_LIST})`);
  return { bytes, format };
}
