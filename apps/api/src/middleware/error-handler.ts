import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ConflictError,
  ImageDecodeError,
  InvalidRequestError,
  JobNotFoundError,
  JobNotReadyError,
  ModelError,
  OverloadedError,
  PayloadTooLargeError,
  SpotterError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  WaitTimeoutError,
  type Logger,
} from '@spotter/shared';

/** The one place where error classes become HTTP statuses. */
const STATUS = new Map<Function, number>([
  [InvalidRequestError, 400],
  [UnauthorizedError, 401],
  [JobNotFoundError, 404],
  [JobNotReadyError, 409],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [ImageDecodeError, 422],
  [OverloadedError, 429],
  [UnavailableError, 503],
  [ModelError, 503],
  [WaitTimeoutError, 504],
]);

function statusOf(err: SpotterError): number {
  return STATUS.get(err.constructor) ?? 500;
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` } });
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof SpotterError) {
      const status = statusOf(err);
      if (err instanceof OverloadedError || err instanceof UnavailableError) res.set('Retry-After', String(err.retryAfterS));
      if (status >= 500) log.warn({ err: err.cause ?? err, code: err.code, path: req.path }, err.message);
      const extra = err instanceof WaitTimeoutError ? { job_id: err.jobId } : {};
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
