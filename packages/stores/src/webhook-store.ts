import { WebhookAttempt, WebhookState } from '@spotter/shared';
import { TTL, type RedisKeys } from './keys.js';
import { defineScript } from './lua.js';
import { redisCall, type RedisClient } from './redis-connection.js';

// An attempt that ends after the job was erased leaves nothing behind: the erasure's mark is
// read and the attempt written in one script, so an erasure cannot land between them.
const RECORD = `if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'url', ARGV[1], 'state', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1`;

/** Where each job's webhook stands: its URL, state and every delivery attempt. */
export class WebhookStore {
  private readonly recordScript;
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {
    this.recordScript = defineScript<number>(redis, 'spotterWebhookRecord', 3, RECORD);
  }

  /** Records one attempt and the state it leaves the webhook in. */
  record(id: string, url: string, state: WebhookState['state'], attempt: WebhookAttempt): Promise<void> {
    return redisCall(async () => {
      await this.recordScript([this.keys.webhook(id), this.keys.webhookAttempts(id), this.keys.erased(id)], [url, state, JSON.stringify(attempt), TTL.webhookS]);
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
