import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import {
  BatchNotFoundError,
  BatchTooLargeError,
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  ImageDecodeError,
  ImageGoneError,
  ImageTooLargeError,
  JobErasedError,
  JobFailedError,
  JobNotFoundError,
  ModelError,
  NotFoundError,
  OverloadedError,
  PromotionRefusedError,
  SpotterError,
  UnauthorizedError,
  UnsupportedImageError,
  UnsupportedVideoError,
  ValidationError,
  VideoNotFoundError,
  VideoTooLargeError,
  VideoUnreadableError,
  InsufficientDiskError,
  WaitTimeoutError,
} from '@spotter/shared';
import { isRedisUnavailable } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';

/** The one place where error classes become HTTP statuses (subclasses take their parent's). */
const STATUS: [abstract new (...args: never[]) => SpotterError, number][] = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [JobNotFoundError, 404],
  [JobErasedError, 404],
  [BatchNotFoundError, 404],
  [VideoNotFoundError, 404],
  [NotFoundError, 404],
  [ConflictError, 409],
  [ImageGoneError, 410],
  [ImageTooLargeError, 413],
  [BatchTooLargeError, 413],
  [VideoTooLargeError, 413],
  [UnsupportedImageError, 415],
  [UnsupportedVideoError, 415],
  [ImageDecodeError, 422],
  [VideoUnreadableError, 422],
  [OverloadedError, 429],
  [DependencyUnavailableError, 503],
  [InsufficientDiskError, 503],
  [ModelError, 503],
  [JobFailedError, 503],
  [WaitTimeoutError, 504],
];

export function statusOf(err: SpotterError): number {
  return STATUS.find(([cls]) => err instanceof cls)?.[1] ?? 500;
}

/**
 * Writes an error answer: `{"error": {"code", "message"}}`, or on the Open Inference
 * Protocol's routes (/v2) its `{"error": "<message>"}` with the code in `Spotter-Error-Code`.
 */
function sendError(req: Request, res: Response, status: number, error: { code: string; message: string } & Record<string, unknown>) {
  res.locals.errorCode = error.code;
  const path = req.originalUrl.split('?')[0]!;
  if (path === '/v2' || path.startsWith('/v2/')) return res.status(status).set('Spotter-Error-Code', error.code).json({ error: error.message });
  return res.status(status).json({ error });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(req, res, 404, { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` });
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (raw, req, res, _next) => {
    // A Redis call made outside the stores (BullMQ internals) fails the same way.
    const err = isRedisUnavailable(raw) ? new DependencyUnavailableError('redis', { cause: raw }) : raw;
    if (err instanceof SpotterError) {
      const status = statusOf(err);
      if (err instanceof OverloadedError || err instanceof DependencyUnavailableError) res.set('Retry-After', String(err.retryAfterS));
      if (status >= 500) log.warn({ err: err.cause ?? err, code: err.code, path: req.path }, err.message);
      const extra = err instanceof WaitTimeoutError ? { job_id: err.jobId } : err instanceof PromotionRefusedError ? { gate: err.gate } : {};
      return sendError(req, res, status, { code: err.code, message: err.message, ...extra });
    }
    // body-parser and friends set a 4xx status on the client's mistakes.
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (status >= 400 && status < 500) {
      const code = err.type === 'entity.parse.failed' ? 'INVALID_JSON' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST';
      return sendError(req, res, status, { code, message: err.message });
    }
    log.error({ err, path: req.path }, 'unhandled error');
    sendError(req, res, 500, { code: 'INTERNAL_ERROR', message: 'internal error' });
  };
}
