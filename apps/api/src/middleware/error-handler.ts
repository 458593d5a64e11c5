import type { ErrorRequestHandler, RequestHandler } from 'express';
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

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` } });
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
      res.locals.errorCode = err.code;
      return res.status(status).json({ error: { code: err.code, message: err.message, ...extra } });
    }
    // body-parser and friends set a 4xx status on the client's mistakes.
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (status >= 400 && status < 500) {
      const code = err.type === 'entity.parse.failed' ? 'INVALID_JSON' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST';
      res.locals.errorCode = code;
      return res.status(status).json({ error: { code, message: err.message } });
    }
    log.error({ err, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
  };
}
