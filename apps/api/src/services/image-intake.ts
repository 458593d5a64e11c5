import type { Config } from '@spotter/config';
import { probeImage, stripMetadata, type ImageProbe } from '@spotter/imaging';

/**
 * Checks an uploaded image (format by content, header, pixels, structure) and, when the
 * operator asks for it (SPOTTER_STRIP_METADATA), strips its metadata before it is stored.
 */
export async function intakeImage(buf: Buffer, images: Config['images']): Promise<{ bytes: Buffer; probe: ImageProbe }> {
  const probe = await probeImage(buf, images.maxPixels);
  if (!images.stripMetadata) return { bytes: buf, probe };
  const stripped = await stripMetadata(buf, probe.format);
  return { bytes: stripped.bytes, probe: stripped.format === probe.format ? probe : await probeImage(stripped.bytes, images.maxPixels) };
}
