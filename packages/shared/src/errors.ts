/**
 * Named errors. Each carries a stable machine-readable `code`; the API maps the class
 * to an HTTP status in one place (apps/api error middleware), the worker uses
 * `retryable` to decide between retrying and failing the job at once.
 */
export abstract class SpotterError extends Error {
  abstract readonly code: string;
  /** Whether trying the same work again can succeed. */
  readonly retryable: boolean = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends SpotterError {
  constructor(message: string, readonly code = 'INVALID_REQUEST') {
    super(message);
  }
}

export class UnauthorizedError extends SpotterError {
  readonly code = 'UNAUTHORIZED';
}

export class JobNotFoundError extends SpotterError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(id: string) {
    super(`no job with id ${JSON.stringify(id)}`);
  }
}

export class JobNotReadyError extends SpotterError {
  readonly code = 'JOB_NOT_READY';
}

/** The request clashes with the current state (e.g. promoting when no rollout runs). */
export class ConflictError extends SpotterError {
  readonly code = 'CONFLICT';
}

export class PayloadTooLargeError extends SpotterError {
  constructor(message: string, readonly code = 'PAYLOAD_TOO_LARGE') {
    super(message);
  }
}

export class UnsupportedMediaTypeError extends SpotterError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** The bytes claim to be an image but cannot be decoded: retrying will not help. */
export class ImageDecodeError extends SpotterError {
  readonly code = 'IMAGE_DECODE_FAILED';
}

export class OverloadedError extends SpotterError {
  readonly code = 'OVERLOADED';
  constructor(message: string, readonly retryAfterS: number) {
    super(message);
  }
}

/** A dependency (Redis, storage) is unreachable; the client may retry later. */
export class UnavailableError extends SpotterError {
  readonly code = 'SERVICE_UNAVAILABLE';
  override readonly retryable = true;
  constructor(message: string, readonly retryAfterS = 5, options?: ErrorOptions) {
    super(message, options);
  }
}

export class WaitTimeoutError extends SpotterError {
  readonly code = 'TIMEOUT';
  constructor(readonly jobId: string, seconds: number) {
    super(`job ${jobId} did not finish within ${seconds}s; poll GET /v1/jobs/${jobId}`);
  }
}

/** A model file that is missing, does not load or has unexpected shapes. */
export class ModelError extends SpotterError {
  readonly code = 'MODEL_ERROR';
}
