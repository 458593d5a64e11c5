import { createHash } from 'node:crypto';
import { TTL, type RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** Idempotency-Key -> job id, per owner, for 24 hours. */
export class IdempotencyStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  private key(owner: string, idempotencyKey: string) {
    return this.keys.idempotency(owner, createHash('sha256').update(idempotencyKey).digest('hex'));
  }

  /** Binds the key to `id` unless it is bound already; returns the id bound before, if any. */
  claim(owner: string, idempotencyKey: string, id: string): Promise<string | null> {
    const key = this.key(owner, idempotencyKey);
    return redisCall(async () => ((await this.redis.set(key, id, 'EX', TTL.idempotencyS, 'NX')) ? null : await this.redis.get(key)));
  }

  /** Frees the key again (the request that claimed it failed). */
  release(owner: string, idempotencyKey: string): Promise<void> {
    return redisCall(async () => void (await this.redis.del(this.key(owner, idempotencyKey))));
  }
}
