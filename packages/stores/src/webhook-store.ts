import { WebhookAttempt, WebhookState } from '@spotter/shared';
import { TTL, type RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** Where each job's webhook stands: its URL, state and every delivery attempt. */
export class WebhookStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  /** Records one attempt and the state it leaves the webhook in. */
  record(id: string, url: string, state: WebhookState['state'], attempt: WebhookAttempt): Promise<void> {
    return redisCall(async () => {
      const [hash, list] = [this.keys.webhook(id), this.keys.webhookAttempts(id)];
      // An attempt that ends after the job was erased leaves nothing behind.
      if (await this.redis.exists(this.keys.erased(id))) return;
      await this.redis
        .multi()
        .hset(hash, 'url', url, 'state', state)
        .rpush(list, JSON.stringify(attempt))
        .expire(hash, TTL.webhookS)
        .expire(list, TTL.webhookS)
        .exec();
    });
  }

  /** The webhook's state, `pending` with no attempts when none was recorded yet. */
  read(id: string, url: string): Promise<WebhookState> {
    return redisCall(async () => {
      const [h, rows] = await Promise.all([this.redis.hgetall(this.keys.webhook(id)), this.redis.lrange(this.keys.webhookAttempts(id), 0, -1)]);
      const attempts = rows.flatMap((r) => {
        const p = WebhookAttempt.safeParse(JSON.parse(r));
        return p.success ? [p.data] : [];
      });
      const state = WebhookState.shape.state.safeParse(h.state);
      return { url, state: state.success ? state.data : 'pending', attempts };
    });
  }
}
