import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { DependencyUnavailableError } from '@spotter/shared';

export type RedisClient = Redis | Cluster;

/**
 * How a process talks to Redis. Workers block on Redis and must wait through outages
 * (`maxRetriesPerRequest: null`, as BullMQ requires); the API fails fast so that a request
 * can answer 503 at once instead of hanging.
 */
export type RedisRole = 'worker' | 'api';

function roleOptions(role: RedisRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000, retryStrategy: (n) => Math.min(n * 200, 2000) };
}

const hostPorts = (list: string) =>
  list.split(',').filter(Boolean).map((hp) => {
    const i = hp.lastIndexOf(':');
    return i > 0 ? { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) } : { host: hp, port: 6379 };
  });

/**
 * A connection from REDIS_URL:
 * - `redis://[:password@]host:port[/db]` or `rediss://...` (TLS): one server;
 * - `redis-cluster://[:password@]h1:p1,h2:p2,...` (`rediss-cluster://` for TLS): a Redis Cluster,
 *   seed nodes only, the rest is discovered;
 * - `redis-sentinel://[:password@]h1:p1,h2:p2,...?name=<master>`: Sentinel, following failovers.
 */
export function createRedis(url: string, role: RedisRole): RedisClient {
  const opts = roleOptions(role);
  const m = /^(redis-cluster|rediss-cluster|redis-sentinel):\/\/(?:([^@/]*)@)?([^/?]+)(?:\?(.*))?$/.exec(url);
  if (!m) return new Redis(url, opts);
  const [, scheme, auth, hosts, query] = m;
  const password = auth ? decodeURIComponent(auth.replace(/^[^:]*:/, '')) : undefined;
  const username = auth && auth.includes(':') && !auth.startsWith(':') ? decodeURIComponent(auth.split(':')[0]!) : undefined;
  const nodes = hostPorts(hosts!);
  if (scheme === 'redis-sentinel') {
    const name = new URLSearchParams(query ?? '').get('name');
    if (!name) throw new Error('REDIS_URL: redis-sentinel:// needs ?name=<master name>');
    return new Redis({ ...opts, sentinels: nodes, name, password, username, sentinelPassword: password });
  }
  const cluster: ClusterOptions = {
    redisOptions: { ...opts, password, username, ...(scheme === 'rediss-cluster' ? { tls: {} } : {}) },
    enableOfflineQueue: role === 'worker',
    clusterRetryStrategy: (n) => Math.min(n * 200, 2000),
    slotsRefreshTimeout: 2000,
  };
  return new Cluster(nodes, cluster);
}

const CONNECTION_ERRORS =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|connect ETIMEDOUT|Reached the max retries per request limit|All sentinels are unreachable|Failed to refresh slots cache|CLUSTERDOWN|LOADING|None of startup nodes is available|Too many Cluster redirections/;

/** Whether an error means "Redis cannot be reached right now" (as opposed to a bug). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError' || CONNECTION_ERRORS.test(err.message);
}

/** Runs a Redis call; a connection failure becomes DependencyUnavailableError('redis'). */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isRedisUnavailable(err)) throw new DependencyUnavailableError('redis', { cause: err });
    throw err;
  }
}
