// `npm start`: set up what is missing, then run Redis (unless REDIS_URL is set), the API and one worker.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureConsole, ensureDependencies, ensureModel, ensureRedisServer, nodeArgs, root, say, startRedis } from './lib.mjs';

ensureDependencies();
ensureConsole();
await ensureModel();

const env = { ...process.env };
let redis;
if (!env.REDIS_URL) {
  ensureRedisServer();
  redis = await startRedis(path.join(root, 'data', 'redis'));
  env.REDIS_URL = redis.url;
  say(`redis-server on ${redis.url} (data in ./data/redis)`);
}

const children = [];
let stopping = false;

function launch(name, entry) {
  const child = spawn(process.execPath, nodeArgs(entry), { cwd: root, env, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${code ?? signal}); stopping everything`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', resolve);
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
  await redis?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

launch('worker', 'apps/worker/src/main.ts');
launch('api', 'apps/api/src/main.ts');
const host = env.HOST ?? (env.SPOTTER_API_KEYS ? '0.0.0.0' : '127.0.0.1');
say(`Spotter: http://${host === '0.0.0.0' ? 'localhost' : host}:${env.PORT ?? 8080}  (console: /console/, docs: /docs; Ctrl-C stops everything)`);
