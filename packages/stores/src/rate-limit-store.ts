import type { RedisKeys } from './keys.js';
import { defineScript } from './lua.js';
import { redisCall, type RedisClient } from './redis-connection.js';

// GCRA (the generic cell rate algorithm): one number per owner, the theoretical arrival
// time of its next request. Redis' clock is used so that every API replica agrees.
const TAKE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = 1000 / tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local wait = tat - now - (burst - 1) * interval
if wait > 0 then return {0, math.ceil(wait)} end
tat = tat + interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
return {1, 0}`;

/** Requests per second per API key, shared by all API processes. */
export class RateLimitStore {
  private readonly take;
  constructor(redis: RedisClient, private readonly keys: RedisKeys) {
    this.take = defineScript<[number, number]>(redis, 'spotterRateTake', 1, TAKE);
  }

  /** Takes one request from the owner's allowance; when refused, says how long to wait. */
  acquire(owner: string, perSecond: number, burst: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
    return redisCall(async () => {
      const [ok, wait] = await this.take([this.keys.rate(owner)], [perSecond, burst]);
      return { allowed: ok === 1, retryAfterMs: wait };
    });
  }
}
