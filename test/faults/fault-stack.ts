import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { loadConfig } from '@spotter/config';
import { createRedis, createStores, type Stores } from '@spotter/stores';
import { freePort, launchService, startRedis, stopService } from '../../scripts/lib.mjs';
import type { RedisTopology } from '../support/redis-topologies.js';
import { MODEL_DIR, type SpotterProcess } from '../support/spotter.js';

export const WEBHOOK_SECRET = 'fault-suite-webhook-secret-01';

/**
 * A receiver that records every delivery; it answers 500 while `failing` is set. It listens on
 * loopback, or on the Unix socket `socket` (a socket file is reachable from every network
 * namespace; `base` is then the URL the senders use, bridged to it).
 */
export async function startReceiver(opts: { socket?: string; base?: string } = {}) {
  const deliveries: { path: string; headers: http.IncomingHttpHeaders; body: string; status: number; at: number }[] = [];
  const state = { failing: false };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = state.failing ? 500 : 200;
      deliveries.push({ path: req.url!, headers: req.headers, body, status, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => (opts.socket ? server.listen(opts.socket, r) : server.listen(0, '127.0.0.1', r)));
  const port = opts.socket ? 0 : (server.address() as AddressInfo).port;
  const base = opts.base ?? `http://127.0.0.1:${port}`;
  return { deliveries, state, port, url: (p: string) => `${base}${p}`, close: () => new Promise((r) => server.close(r)) };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** An S3-protocol server that can be stopped and started again on the same port and data. */
async function startS3(dir: string) {
  const port = await freePort();
  const bucket = 'spotter-faults';
  let server: S3rver | null = null;
  const start = async () => {
    server = new S3rver({ port, address: '127.0.0.1', directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
    await server.run();
  };
  const stop = async () => {
    const s = server as unknown as { close(): Promise<void>; httpServer?: http.Server } | null;
    server = null;
    if (!s) return;
    const closing = s.close();
    // Keep-alive connections of the S3 clients would hold the server open: cut them, as a crash would.
    s.httpServer?.closeAllConnections();
    await closing;
  };
  await start();
  return { port, bucket, endpoint: `http://127.0.0.1:${port}`, start, stop };
}

export interface FaultStackOptions {
  apis?: number;
  workers?: number;
  s3?: boolean;
  env?: Record<string, string>;
  /** Run on this Redis deployment (cluster, Sentinel) instead of a private single server; the caller stops it. */
  redis?: RedisTopology;
}

/**
 * The real processes on infrastructure of their own, so that faults (a killed Redis, a stopped
 * S3 server) touch nothing else: a private redis-server (AOF, restartable on its port),
 * optionally a private S3 server, N API processes and M workers, a webhook receiver, and the
 * stores on an inspection connection.
 */
export async function startFaultStack(opts: FaultStackOptions = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-faults-'));
  const redisPort = await freePort();
  let redis = opts.redis ? null : await startRedis(path.join(dir, 'redis'), { port: redisPort });
  const redisUrl = opts.redis?.url ?? redis!.url;
  const s3 = opts.s3 ? await startS3(path.join(dir, 's3')) : null;
  const receiver = await startReceiver();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    SPOTTER_QUEUE_PREFIX: `f${randomBytes(3).toString('hex')}`,
    SPOTTER_MODEL_DIR: MODEL_DIR,
    SPOTTER_METRICS_PORT: '0',
    SPOTTER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
    SPOTTER_WEBHOOK_BACKOFF_MS: '200',
    SPOTTER_RECONCILE_S: '1',
    SPOTTER_TAKEOVER_S: '6',
    LOG_LEVEL: 'info',
    ...(s3
      ? {
          SPOTTER_STORAGE: `s3://${s3.bucket}/data`,
          S3_ENDPOINT: s3.endpoint,
          S3_FORCE_PATH_STYLE: 'true',
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
        }
      : { SPOTTER_STORAGE: `file://${path.join(dir, 'data')}` }),
    ...opts.env,
  };
  const config = loadConfig(env);
  // The same connection code as Spotter's, so that it follows a cluster or a Sentinel too.
  const inspection = createRedis(redisUrl, 'worker');
  inspection.on('error', () => undefined);
  const stores: Stores = createStores(inspection, config);
  const own = () => {
    if (!redis) throw new Error('only the private Redis server of a fault stack can be stopped or killed');
    return redis;
  };

  const workers: SpotterProcess[] = [];
  const apis: (SpotterProcess & { url: string })[] = [];
  const startWorker = async () => {
    const w = (await launchService('worker', 'apps/worker/src/main.ts', env, /spotter worker ready/)) as SpotterProcess;
    workers.push(w);
    return w;
  };
  const startApi = async () => {
    const port = await freePort();
    const a = (await launchService('api', 'apps/api/src/main.ts', { ...env, PORT: String(port) }, /spotter api listening/)) as SpotterProcess;
    apis.push({ ...a, url: `http://127.0.0.1:${port}` });
  };
  await Promise.all(Array.from({ length: opts.workers ?? 1 }, startWorker));
  for (let i = 0; i < (opts.apis ?? 1); i++) await startApi();

  const running = (p: SpotterProcess) => p.child.exitCode === null && p.child.signalCode === null;
  return {
    dir,
    env,
    config,
    stores,
    receiver,
    s3,
    apis,
    workers,
    url: apis[0]!.url,
    startWorker,
    /** SIGKILL: no cleanup, its jobs stay locked until the lock expires. */
    killWorker: async (w: SpotterProcess) => {
      w.child.kill('SIGKILL');
      await w.exited;
    },
    liveWorkers: () => workers.filter(running),
    /** Ids the queue has in its active list (held by some worker). */
    activeIds: () => inspection.lrange(`{${env.SPOTTER_QUEUE_PREFIX}}:detect:active`, 0, -1),
    waitingCount: () => inspection.llen(`{${env.SPOTTER_QUEUE_PREFIX}}:detect:wait`),
    /** A field of BullMQ's own hash of a detect job (`ats`: attempts started, `stc`: stalls). */
    queueField: (id: string, field: string) => inspection.hget(`{${env.SPOTTER_QUEUE_PREFIX}}:detect:${id}`, field),
    redis: {
      url: () => redisUrl,
      /** SIGKILL redis-server: the last second of writes may be lost (AOF everysec). */
      kill: async () => {
        const { child } = own();
        child.kill('SIGKILL');
        await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      },
      stop: () => own().stop(),
      start: async () => {
        own();
        redis = await startRedis(path.join(dir, 'redis'), { port: redisPort });
      },
      flushall: () => (opts.redis ? opts.redis.flushall() : inspection.flushall().then(() => undefined)),
    },
    /** Every process's output so far (to look for errors such as CROSSSLOT). */
    output: () => [...apis, ...workers].map((p) => p.output()).join('\n'),
    stop: async () => {
      await Promise.all([...apis, ...workers].filter(running).map((p) => stopService(p)));
      inspection.disconnect();
      await redis?.stop();
      await s3?.stop();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type FaultStack = Awaited<ReturnType<typeof startFaultStack>>;
