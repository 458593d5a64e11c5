import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DependencyUnavailableError } from '@spotter/shared';
import type { StorageConfig } from '@spotter/config';
import { assertValidKey, assertValidPrefix, type ObjectStorage, type ObjectStream, type StoredObject } from './object-storage.js';

type S3Config = Extract<StorageConfig, { kind: 's3' }>;

const isNotFound = (err: unknown) =>
  err instanceof NoSuchKey || err instanceof NotFound || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404);

/** S3 adapter (AWS S3, MinIO, any S3-protocol server). */
export class S3Storage implements ObjectStorage {
  readonly describe: string;
  private readonly client: S3Client;

  constructor(private readonly cfg: S3Config) {
    this.client = new S3Client({
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.forcePathStyle,
      credentials: cfg.credentials,
      // Fail a call to an endpoint that hangs instead of holding a request or a job forever.
      requestHandler: { connectionTimeout: 3000, requestTimeout: 30_000 },
      maxAttempts: 2,
      // Checksums only where S3 requires them: by default a streamed body goes out
      // aws-chunked with a trailing checksum, which S3-protocol servers other than AWS
      // (s3rver here, older MinIO and Ceph) store as the object's bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.describe = `s3://${cfg.bucket}/${cfg.prefix}${cfg.endpoint ? ` at ${cfg.endpoint}` : ''}`;
  }

  private objectKey(key: string) {
    assertValidKey(key);
    return this.cfg.prefix ? `${this.cfg.prefix}/${key}` : key;
  }

  /** Runs an S3 call; "not found" is the caller's business, every other failure is an outage. */
  private async call<T>(fn: () => Promise<T>, onNotFound: () => T): Promise<T>;
  private async call<T>(fn: () => Promise<T>): Promise<T>;
  private async call<T>(fn: () => Promise<T>, onNotFound?: () => T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (onNotFound && isNotFound(err)) return onNotFound();
      throw new DependencyUnavailableError('storage', { cause: err });
    }
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.putBody(key, body, contentType);
  }

  async putFile(key: string, file: string, contentType: string): Promise<void> {
    const { size } = await stat(file);
    // A stream needs its length up front (one PUT, no multipart: clips are bounded well under S3's 5 GB).
    await this.putBody(key, createReadStream(file), contentType, size);
  }

  private async putBody(key: string, body: Buffer | Readable, contentType: string, length?: number): Promise<void> {
    const Key = this.objectKey(key);
    const sse = this.cfg.sse;
    await this.call(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.cfg.bucket,
          Key,
          Body: body,
          ContentType: contentType,
          ...(length !== undefined ? { ContentLength: length } : {}),
          ...(sse ? { ServerSideEncryption: sse.type, ...(sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) } : {}),
        }),
      ),
    );
  }

  async getStream(key: string): Promise<ObjectStream | null> {
    const Key = this.objectKey(key);
    return this.call(
      async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key }));
        return out.Body ? { body: out.Body as Readable, bytes: out.ContentLength ?? null } : null;
      },
      () => null,
    );
  }

  async getToFile(key: string, file: string): Promise<boolean> {
    const stored = await this.getStream(key);
    if (!stored) return false;
    // A body cut off half-way is the backend failing, like a refused request; no partial file is left.
    return this.call(async () => {
      try {
        await pipeline(stored.body, createWriteStream(file));
      } catch (err) {
        await rm(file, { force: true });
        throw err;
      }
      return true;
    });
  }

  async get(key: string): Promise<Buffer | null> {
    const Key = this.objectKey(key);
    return this.call(
      async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key }));
        return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : null;
      },
      () => null,
    );
  }

  async size(key: string): Promise<number | null> {
    const Key = this.objectKey(key);
    return this.call(
      async () => (await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key }))).ContentLength ?? 0,
      () => null,
    );
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.cfg.bucket, Key })));
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    const base = this.cfg.prefix ? `${this.cfg.prefix}/` : '';
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: base + prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(base.length), bytes: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async check(): Promise<void> {
    await this.call(() => this.client.send(new HeadBucketCommand({ Bucket: this.cfg.bucket })));
  }
}
