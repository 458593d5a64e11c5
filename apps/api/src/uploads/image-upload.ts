import multer from 'multer';
import type { RequestHandler } from 'express';
import { ImageTooLargeError, ValidationError } from '@spotter/shared';
import { context } from '@spotter/telemetry';
import type { ApiMetrics } from '../api-metrics.js';

/**
 * Parses the multipart form into memory with hard limits. The client's file name and
 * declared content type are ignored: storage keys are ours and formats are sniffed.
 */
export function imageUpload(maxBytes: number, metrics: ApiMetrics): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 4096, parts: 12, headerPairs: 50 },
  }).single('image');
  return (req, res, next) => {
    // Busboy calls back from stream events; carry the request's trace context across.
    const ctx = context.active();
    parse(req, res, (err: unknown) => context.with(ctx, () => {
      if (req.file) {
        metrics.uploads.inc();
        metrics.uploadBytes.inc(req.file.size);
      }
      if (!err) {
        if (!req.file) {
          return next(new ValidationError('missing file field "image" (send multipart/form-data)', 'MISSING_IMAGE'));
        }
        return next();
      }
      if (err instanceof multer.MulterError && err.code === 'LIMIT_FILE_SIZE') {
        return next(new ImageTooLargeError(`the image is larger than the limit of ${maxBytes} bytes`, 'PAYLOAD_TOO_LARGE'));
      }
      if (err instanceof multer.MulterError && err.code === 'LIMIT_UNEXPECTED_FILE') {
        return next(new ValidationError(`unexpected file field "${err.field}"; send the image as "image"`));
      }
      next(new ValidationError(`malformed multipart body: ${(err as Error).message}`));
    }));
  };
}
