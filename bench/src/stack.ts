import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, launchService, root, stopService } from '../../scripts/lib.mjs';

interface Service {
  child: { pid?: number };
  output(): string;
}

/** What the processes run: the TypeScript sources through tsx, or the compiled dist/ with plain node. */
export type Build = 'tsx' | 'compiled';

const entry = (app: 'api' | 'worker', build: Build) => (build === 'tsx' ? `apps/${app}/src/main.ts` : `apps/${app}/dist/main.js`);

/**
 * The real API (unless `api` is false) and `workers` worker processes on a private queue
 * prefix and storage dir, with how long each took from spawn to its ready line.
 */
export async function startStack(redisUrl: string, workers: number, env: Record<string, string> = {}, { build = 'tsx' as Build, api: withApi = true } = {}) {
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'spotter-bench-'));
  const port = await freePort();
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    SPOTTER_QUEUE_PREFIX: `b${randomBytes(4).toString('hex')}`,
    SPOTTER_STORAGE: `file://${storageDir}`,
    SPOTTER_MODEL_DIR: path.join(root, 'models'),
    SPOTTER_METRICS_PORT: '0',
    SPOTTER_MAX_BACKLOG: '1000000',
    ...env,
  };
  const startupMs: Record<string, number> = {};
  const launch = async (name: string, app: 'api' | 'worker', readyLine: RegExp): Promise<Service> => {
    const t0 = performance.now();
    const s = (await launchService(app, entry(app, build), fullEnv, readyLine)) as Service;
    startupMs[name] = Math.round(performance.now() - t0);
    return s;
  };
  const started = await Promise.all(Array.from({ length: workers }, (_, i) => launch(`worker${i + 1}`, 'worker', /spotter worker ready/)));
  const api = withApi ? await launch('api', 'api', /spotter api listening/) : null;
  const all = api ? [api, ...started] : started;
  return {
    url: `http://127.0.0.1:${port}`,
    pids: Object.fromEntries([...(api ? [['api', api.child.pid!]] : []), ...started.map((w, i) => [`worker${i + 1}`, w.child.pid!])]) as Record<string, number>,
    startupMs,
    async stop() {
      await Promise.all(all.map((s) => stopService(s)));
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
