import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '../../scripts/lib.mjs';
import { until } from './until.js';

const run = promisify(execFile);

type Server = Awaited<ReturnType<typeof startRedis>>;

/** A Redis deployment a test starts for itself: the REDIS_URL Spotter gets, and what the test may do to it. */
export interface RedisTopology {
  url: string;
  /** Empties every master: the data loss the outbox in storage must repair. */
  flushall(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `fn` on a plain connection to one server, then closes it. */
async function onServer<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Stops what was started and removes the directory, whatever state a failed set-up left. */
async function teardown(servers: Server[], dir: string) {
  await Promise.allSettled(servers.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
}

/**
 * A real Redis Cluster on loopback: `masters` redis-servers with cluster mode on (AOF, as
 * startRedis sets), joined by `redis-cli --cluster create` with no replicas. Resolves once
 * every node reports `cluster_state:ok`. REDIS_URL is `redis-cluster://` with every node as a seed.
 */
export async function startRedisCluster(masters = 3): Promise<RedisTopology & { ports: number[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-cluster-'));
  const servers: Server[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(await startRedis(path.join(dir, `node${i}`), { args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
    }
    const ports = servers.map((s) => s.port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    // create returns once slots are assigned; the nodes agree a moment later.
    await until(async () => {
      const states = await Promise.all(ports.map((p) => onServer(p, (r) => r.call('CLUSTER', 'INFO') as Promise<string>)));
      return states.every((s) => s.includes('cluster_state:ok')) ? true : undefined;
    });
    return {
      url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
      ports,
      flushall: async () => void (await Promise.all(ports.map((p) => onServer(p, (r) => r.flushall())))),
      stop: () => teardown(servers, dir),
    };
  } catch (err) {
    await teardown(servers, dir);
    throw err;
  }
}

/**
 * One master, one replica and one Sentinel (quorum 1) on loopback. Resolves once the replica
 * is in sync and the Sentinel knows it (a failover needs a replica to promote). `failover()`
 * runs SENTINEL FAILOVER and resolves once the Sentinel names the former replica as master.
 */
export async function startRedisSentinel(name = 'mymaster'): Promise<RedisTopology & { failover(): Promise<void>; masterPort(): Promise<number> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-sentinel-'));
  const servers: Server[] = [];
  try {
    const master = await startRedis(path.join(dir, 'master'));
    servers.push(master);
    const replica = await startRedis(path.join(dir, 'replica'), { args: ['--replicaof', '127.0.0.1', String(master.port)] });
    servers.push(replica);
    const config = path.join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [`sentinel monitor ${name} 127.0.0.1 ${master.port} 1`, `sentinel down-after-milliseconds ${name} 2000`, `sentinel failover-timeout ${name} 10000`, ''].join('\n'),
    );
    const sentinel = await startRedis(path.join(dir, 'sentinel'), { port: await freePort(), config, args: ['--sentinel'] });
    servers.push(sentinel);
    const ask = (...args: string[]) => onServer(sentinel.port, (r) => r.call('SENTINEL', ...args));
    await until(async () => {
      const link = await onServer(replica.port, (r) => r.info('replication'));
      const known = (await ask('REPLICAS', name)) as unknown[];
      return link.includes('master_link_status:up') && known.length === 1 ? true : undefined;
    });
    const masterPort = async () => Number(((await ask('GET-MASTER-ADDR-BY-NAME', name)) as [string, string])[1]);
    return {
      url: `redis-sentinel://127.0.0.1:${sentinel.port}?name=${name}`,
      masterPort,
      failover: async () => {
        const before = await masterPort();
        await ask('FAILOVER', name);
        await until(async () => ((await masterPort()) !== before ? true : undefined));
      },
      flushall: async () => void (await onServer(await masterPort(), (r) => r.flushall())),
      stop: () => teardown(servers, dir),
    };
  } catch (err) {
    await teardown(servers, dir);
    throw err;
  }
}
