/** Image formats Spotter accepts, judged from the bytes, never from a file name. */
export const IMAGE_FORMATS = {
  jpeg: { label: 'JPEG', mime: 'image/jpeg' },
  png: { label: 'PNG', mime: 'image/png' },
  webp: { label: 'WebP', mime: 'image/webp' },
  gif: { label: 'GIF (first frame)', mime: 'image/gif' },
  avif: { label: 'AVIF', mime: 'image/avif' },
  heif: { label: 'HEIF', mime: 'image/heif' },
  tiff: { label: 'TIFF', mime: 'image/tiff' },
} as const;

export type ImageFormat = keyof typeof IMAGE_FORMATS;

/** "JPEG, PNG, WebP, ..." for messages and documentation. */
export const IMAGE_FORMAT_LIST = Object.values(IMAGE_FORMATS)
  .map((f) => f.label)
  .join(', ');
