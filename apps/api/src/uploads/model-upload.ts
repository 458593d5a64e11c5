import multer from 'multer';
import type { RequestHandler } from 'express';
import { formatIssues, ImageTooLargeError, ModelManifest, ValidationError } from '@spotter/shared';

/**
 * POST /v1/models' form: the .onnx as `file` (at most `maxBytes`, in memory: it goes to storage
 * whole) and the manifest as a JSON text field `manifest`. `req.body.manifest` comes out parsed
 * and checked; a manifest without `file` names the file after the model. The upload's own file
 * name is never used.
 */
export function modelUpload(maxBytes: number): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 2, fieldSize: 4 * 1024 * 1024, parts: 3, headerPairs: 50 },
  }).single('file');
  return (req, res, next) =>
    parse(req, res, (err: unknown) => {
      if (err instanceof multer.MulterError && err.code === 'LIMIT_FILE_SIZE') return next(new ImageTooLargeError(`the model file is larger than the limit of ${maxBytes} bytes (SPOTTER_MAX_MODEL_BYTES)`, 'PAYLOAD_TOO_LARGE'));
      if (err instanceof multer.MulterError && err.code === 'LIMIT_UNEXPECTED_FILE') return next(new ValidationError(`unexpected file field "${err.field}"; send the model as "file"`));
      if (err) return next(new ValidationError(`malformed multipart body: ${(err as Error).message}`));
      if (!req.file) return next(new ValidationError('missing file field "file" (the .onnx, as multipart/form-data)', 'MISSING_FILE'));
      const text: unknown = req.body?.manifest;
      if (typeof text !== 'string') return next(new ValidationError('missing field "manifest" (the model manifest as JSON)', 'INVALID_MANIFEST'));
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        return next(new ValidationError(`the manifest is not JSON: ${(e as Error).message}`, 'INVALID_MANIFEST'));
      }
      const withFile = raw && typeof raw === 'object' && !('file' in raw) && 'name' in raw ? { ...raw, file: `${String((raw as { name: unknown }).name)}.onnx` } : raw;
      const parsed = ModelManifest.safeParse(withFile);
      if (!parsed.success) return next(new ValidationError(formatIssues(parsed.error, 'manifest'), 'INVALID_MANIFEST'));
      req.body.manifest = parsed.data;
      next();
    });
}
