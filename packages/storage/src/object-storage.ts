import type { Readable } from 'node:stream';

/**
 * The storage port: a flat key -> bytes store. Keys are built by Spotter only (`storageKeys`),
 * never from anything a client sends. Adapters turn "cannot reach or write the backend" into
 * DependencyUnavailableError('storage'), whose message names no host, port or path.
 */
export interface ObjectStorage {
  /** Human-readable location for logs (no credentials). */
  readonly describe: string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is no such key. */
  get(key: string): Promise<Buffer | null>;
  /** Stores a local file's bytes, read as a stream: a large object (a clip) is never held in memory. */
  putFile(key: string, file: string, contentType: string): Promise<void>;
  /** The object as a stream, or null when there is no such key: a large result (an annotated MP4) is served without being held. */
  getStream(key: string): Promise<ObjectStream | null>;
  /** Writes the object to a local file as a stream; false (and no file) when there is no such key. */
  getToFile(key: string, file: string): Promise<boolean>;
  /** The object's size in bytes without reading it, or null when there is no such key. */
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (a folder such as `pending/`), in no particular order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Throws when the backend cannot be reached or written. */
  check(): Promise<void>;
}

export interface ObjectStream {
  body: Readable;
  /** Its size in bytes; null when the backend does not say. */
  bytes: number | null;
}

export interface StoredObject {
  key: string;
  bytes: number;
  modifiedAt: Date;
}

const KEY = /^[a-z]+(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})+$/;
const PREFIX = /^[a-z]+\/([A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\/)*$/;

/** Refuses any key that is not one Spotter builds, so no path can escape the root. */
export function assertValidKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
}

/** Refuses a list prefix that is not a folder of keys Spotter builds. */
export function assertValidPrefix(prefix: string): void {
  if (!PREFIX.test(prefix) || prefix.includes('..')) throw new Error(`invalid storage prefix ${JSON.stringify(prefix)}`);
}

/** The results of a succeeded video, as the finish writes them and the API serves them. */
export const VIDEO_RESULTS = ['detections.jsonl', 'tracks.json', 'counts.json', 'events.json', 'annotated.mp4'] as const;
export type VideoResult = (typeof VIDEO_RESULTS)[number];

/** Every key Spotter writes, in one place. */
export const storageKeys = {
  image: (id: string) => `images/${id}`,
  /** Written before a job is accepted, removed once it is final and announced: the outbox. */
  pending: (id: string) => `pending/${id}.json`,
  result: (id: string) => `results/${id}.json`,
  annotated: (id: string) => `annotated/${id}.jpg`,
  /** A job's raw model output, when its client asked for it (encodeRawTensor); read once, then deleted. */
  output: (id: string) => `outputs/${id}.f32`,
  shadow: (id: string) => `shadow/${id}.json`,
  feedback: (id: string) => `feedback/${id}.json`,
  /** A batch's manifest: its items (job ids, source names) and what was skipped. */
  batch: (id: string) => `batches/${id}.json`,
  /** The outbox entry of a batch: until its final event is delivered. */
  pendingBatch: (id: string) => `pending/batch.${id}.json`,
  /** An evaluation report that `spotter eval --store` wrote: `reports/<id>/report.json` or `report.html`. */
  report: (id: string, file: 'report.json' | 'report.html') => `reports/${id}/${file}`,
  /** A model registered in storage (`models add`, POST /v1/models): its StoredModel record. */
  model: (name: string) => `models/${name}.json`,
  /** A registered model's .onnx file, by its sha256: shared by every model registered with it. */
  modelFile: (sha256: string) => `modelfiles/${sha256}.onnx`,
  /** A video's objects: the clip, its record, each segment's tracks, and the results. */
  video: (id: string, file: 'clip' | 'video.json' | `segment-${number}.json` | VideoResult) => `videos/${id}/${file}`,
  /** The id in a key of one of the folders above (`batch.<id>` for a batch's outbox entry). */
  idOf: (key: string) => key.slice(key.lastIndexOf('/') + 1).replace(/\.(json|jpg)$/, ''),
};
