/**
 * The storage port: a flat key -> bytes store. Keys are built by Spotter only
 * (see storage-keys.ts), never from anything a client sends.
 */
export interface ObjectStorage {
  /** Human-readable location for logs (no credentials). */
  readonly describe: string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is no such key. */
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
  /** Throws when the backend cannot be reached or written. */
  check(): Promise<void>;
}

const KEY = /^[a-z]+(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})+$/;

/** Refuses any key that is not one Spotter builds, so no path can escape the root. */
export function assertValidKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
}

export const storageKeys = {
  image: (id: string) => `images/${id}`,
  result: (id: string) => `results/${id}.json`,
  annotated: (id: string) => `annotated/${id}.jpg`,
  shadow: (id: string) => `shadow/${id}.json`,
  feedback: (id: string) => `feedback/${id}.json`,
};
