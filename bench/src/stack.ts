import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, launchService, root, stopService } from '../../scripts/lib.mjs';

interface Service {
  child: { pid?: number };
  output(): string;
}

/** The real API and `workers` worker processes on a private queue prefix and storage dir. */
export async function startStack(redisUrl: string, workers: number, env: Record<string, string> = {}) {
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
  const started: Service[] = await Promise.all(
    Array.from({ length: workers }, () => launchService('worker', 'apps/worker/src/main.ts', fullEnv, /spotter worker ready/)),
  );
  const api: Service = await launchService('api', 'apps/api/src/main.ts', fullEnv, /spotter api listening/);
  return {
    url: `http://127.0.0.1:${port}`,
    pids: Object.fromEntries([['api', api.child.pid!], ...started.map((w, i) => [`worker${i + 1}`, w.child.pid!])]) as Record<string, number>,
    async stop() {
      await Promise.all([api, ...started].map((s) => stopService(s)));
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
