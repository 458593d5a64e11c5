import type { RedisClient } from './redis-connection.js';

/**
 * Registers a Lua script on the client (EVALSHA, loaded on first use) and returns a typed
 * caller. Every key a script touches is passed in KEYS, as Redis Cluster requires.
 */
export function defineScript<R = unknown>(redis: RedisClient, name: string, numberOfKeys: number, lua: string) {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<R>>)[name]!.bind(redis);
  return (keys: string[], args: (string | number)[]): Promise<R> => command(...keys, ...args);
}
