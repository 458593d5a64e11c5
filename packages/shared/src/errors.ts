/**
 * Spotter's named errors, all of them. Each carries a stable machine-readable `code` and
 * says whether trying the same work again can succeed (`retryable`). The API maps classes
 * to HTTP statuses in its one error middleware; workers use `retryable` to decide between
 * retrying and ending the job at once. No class here is named after an HTTP status.
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

/** Whether an error may go away on its own: unknown errors are assumed to (network blips). */
export function isRetryable(err: unknown): boolean {
  return err instanceof SpotterError ? err.retryable : true;
}

// --- the caller's mistakes -------------------------------------------------------------

/** A request field, header or body that does not validate. */
export class ValidationError extends SpotterError {
  constructor(message: string, readonly code: string = 'INVALID_REQUEST') {
    super(message);
  }
}

export class UnknownModelError extends ValidationError {
  constructor(name: string, known?: readonly string[]) {
    super(`unknown model ${JSON.stringify(name)}${known ? `; available: ${known.join(', ')}` : ''}`, 'UNKNOWN_MODEL');
  }
}

/** A webhook destination Spotter will not call (scheme, credentials, private address). */
export class WebhookUrlForbiddenError extends ValidationError {
  constructor(message: string) {
    super(message, 'WEBHOOK_URL_FORBIDDEN');
  }
}

export class UnauthorizedError extends SpotterError {
  readonly code = 'UNAUTHORIZED';
}

/** A valid key asking for something only an admin key may do. */
export class ForbiddenError extends SpotterError {
  readonly code = 'FORBIDDEN';
}

export class JobNotFoundError extends SpotterError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(id: string) {
    super(`no job with id ${JSON.stringify(id)}`);
  }
}

/** A named thing other than a job (a model file, a stored report) that does not exist. */
export class NotFoundError extends SpotterError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request clashes with the current state (promoting when no rollout runs, say). */
export class ConflictError extends SpotterError {
  readonly code: string = 'CONFLICT';
}

export class JobNotReadyError extends ConflictError {
  override readonly code = 'JOB_NOT_READY';
}

/** The promotion gate refused a candidate: `gate` is the comparison table, answered with the 409. */
export class PromotionRefusedError extends ConflictError {
  override readonly code = 'PROMOTION_REFUSED';
  constructor(
    message: string,
    readonly gate: unknown,
  ) {
    super(message);
  }
}

// --- images -----------------------------------------------------------------------------

export class EmptyImageError extends ValidationError {
  constructor() {
    super('the image file is empty', 'EMPTY_FILE');
  }
}

/** More bytes (`PAYLOAD_TOO_LARGE`) or more pixels (`IMAGE_TOO_MANY_PIXELS`) than allowed. */
export class ImageTooLargeError extends SpotterError {
  constructor(message: string, readonly code: 'PAYLOAD_TOO_LARGE' | 'IMAGE_TOO_MANY_PIXELS') {
    super(message);
  }
}

/** The bytes are not an image format Spotter reads (judged by content). */
export class UnsupportedImageError extends SpotterError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** The bytes claim to be an image but cannot be decoded: retrying will not help. */
export class ImageDecodeError extends SpotterError {
  readonly code = 'IMAGE_DECODE_FAILED';
}

/** The job's original image is no longer held (erased, or past its retention). */
export class ImageGoneError extends SpotterError {
  readonly code = 'IMAGE_NOT_HELD';
}

// --- load and dependencies --------------------------------------------------------------

/** Too much work is waiting, or this key sends too fast; the client may retry later. */
export class OverloadedError extends SpotterError {
  constructor(
    message: string,
    readonly retryAfterS: number,
    readonly code: 'OVERLOADED' | 'RATE_LIMITED' | 'TOO_MANY_ACTIVE_JOBS' = 'OVERLOADED',
  ) {
    super(message);
  }
}

/**
 * Redis or storage cannot be reached. Messages never name a host, port or path: the cause
 * (kept for the operator's log) does.
 */
export class DependencyUnavailableError extends SpotterError {
  override readonly retryable = true;
  readonly code: 'REDIS_UNAVAILABLE' | 'STORAGE_UNAVAILABLE';
  constructor(
    readonly dependency: 'redis' | 'storage',
    options?: ErrorOptions & { message?: string; retryAfterS?: number },
  ) {
    super(options?.message ?? `${dependency === 'redis' ? 'the queue (Redis)' : 'image storage'} is unavailable; try again shortly`, options);
    this.code = dependency === 'redis' ? 'REDIS_UNAVAILABLE' : 'STORAGE_UNAVAILABLE';
    this.retryAfterS = options?.retryAfterS ?? 5;
  }
  readonly retryAfterS: number;
}

export class WaitTimeoutError extends SpotterError {
  readonly code = 'TIMEOUT';
  constructor(readonly jobId: string, seconds: number) {
    super(`job ${jobId} did not finish within ${seconds}s; poll GET /v1/jobs/${jobId}`);
  }
}

/** One attempt ran past SPOTTER_JOB_TIMEOUT_S. */
export class JobTimeoutError extends SpotterError {
  readonly code = 'JOB_TIMEOUT';
  override readonly retryable = true;
}

// --- models, configuration, delivery ----------------------------------------------------

/** A model file that is missing, does not load or has unexpected shapes. */
export class ModelError extends SpotterError {
  readonly code = 'MODEL_ERROR';
}

/** A model manifest that does not validate, or a name declared twice. */
export class ModelRegistryError extends SpotterError {
  readonly code = 'MODEL_REGISTRY_INVALID';
}

/**
 * Monitoring state that Spotter wrote and cannot read back (an active reference that is gone
 * or corrupt): drift cannot be judged until an operator makes a new reference, and saying so
 * beats reporting "insufficient data" as if nothing were wrong.
 */
export class MonitoringStateError extends SpotterError {
  readonly code = 'MONITORING_STATE_UNREADABLE';
}

/** The environment does not describe a runnable configuration. */
export class ConfigError extends SpotterError {
  readonly code = 'CONFIG_INVALID';
}

/** A webhook attempt that failed (timeout, refused, non-2xx); retried with backoff. */
export class WebhookDeliveryError extends SpotterError {
  readonly code = 'WEBHOOK_DELIVERY_FAILED';
  override readonly retryable = true;
  constructor(message: string, readonly statusCode: number | null) {
    super(message);
  }
}

/** A webhook host that does not resolve: the client's mistake at submission, maybe a DNS blip at delivery. */
export class WebhookUrlUnresolvableError extends ValidationError {
  override readonly retryable = true;
  constructor(host: string) {
    super(`webhook_url host ${JSON.stringify(host)} does not resolve`, 'WEBHOOK_URL_UNRESOLVABLE');
  }
}

/** A job ended in failure for a reason on Spotter's side (model, storage, lost workers); carries the job's code. */
export class JobFailedError extends SpotterError {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class BatchNotFoundError extends SpotterError {
  readonly code = 'BATCH_NOT_FOUND';
  constructor(id: string) {
    super(`no batch with id ${JSON.stringify(id)}`);
  }
}

/** A batch upload over one of its limits: entries, bytes, or a compression ratio only a bomb has. */
export class BatchTooLargeError extends SpotterError {
  constructor(message: string, readonly code: 'ARCHIVE_TOO_MANY_ENTRIES' | 'ARCHIVE_TOO_LARGE' | 'ARCHIVE_COMPRESSION_RATIO' | 'BATCH_TOO_MANY_ITEMS') {
    super(message);
  }
}

/** The job was erased while something was still working on it: nothing of it may be written again. */
export class JobErasedError extends SpotterError {
  readonly code = 'JOB_ERASED';
  constructor(id: string) {
    super(`job ${id} was erased`);
  }
}

// --- videos -----------------------------------------------------------------------------

export class VideoNotFoundError extends SpotterError {
  readonly code = 'VIDEO_NOT_FOUND';
  constructor(id: string) {
    super(`no video with id ${JSON.stringify(id)}`);
  }
}

/** A clip over one of the limits: bytes, duration, frames to sample, or pixels per frame. */
export class VideoTooLargeError extends SpotterError {
  constructor(message: string, readonly code: 'PAYLOAD_TOO_LARGE' | 'VIDEO_TOO_LONG' | 'VIDEO_TOO_MANY_FRAMES' | 'VIDEO_TOO_MANY_PIXELS') {
    super(message);
  }
}

/** The bytes are not a video container Spotter reads (judged by content), or hold no video stream. */
export class UnsupportedVideoError extends SpotterError {
  readonly code = 'UNSUPPORTED_VIDEO';
}

/**
 * A clip that cannot be read (probing fails: cut short, corrupt headers) or decoded (found
 * by the worker): retrying will not help. `code` says which.
 */
export class VideoUnreadableError extends SpotterError {
  constructor(message: string, readonly code: 'VIDEO_UNREADABLE' | 'VIDEO_DECODE_FAILED' | 'VIDEO_DECODE_TIMEOUT' = 'VIDEO_UNREADABLE') {
    super(message);
  }
}

/** A process lacks the local disk space a clip needs (the upload's or a worker's copy); another may have it later. */
export class InsufficientDiskError extends SpotterError {
  readonly code = 'INSUFFICIENT_DISK';
  override readonly retryable = true;
  readonly retryAfterS = 30;
}

/** A video's results were asked for before it succeeded. */
export class VideoNotReadyError extends ConflictError {
  override readonly code = 'VIDEO_NOT_READY';
}
