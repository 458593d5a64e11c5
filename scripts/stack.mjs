// The compose stack from the images scripts/images.mjs built: docker-compose.yml with the
// stand-ins of deploy/podman/compose.stand-ins.yml, driven by Debian's docker-compose 1.29
// against a private `podman system service` (podman-compose 1.0 ignores depends_on
// conditions and --scale). HEALTHCHECKs run through driveHealthChecks (no systemd here).
// Everything is named after a fresh project, and stop() removes all of it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, root, say } from './lib.mjs';
import { driveHealthChecks, engine, imageNames, podman, podmanEnv, startPodmanService } from './podman.mjs';

export const COMPOSE_FILES = ['docker-compose.yml', 'deploy/podman/compose.stand-ins.yml'];

/** The health state of every container of `project` (compose service, replica number, podman's status). */
export async function containersOf(socket, project) {
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }));
  const { body } = await engine(socket, 'GET', `/v4.0.0/libpod/containers/json?all=true&filters=${filters}`);
  return (Array.isArray(body) ? body : []).map((c) => ({
    id: c.Id,
    name: c.Names[0],
    service: c.Labels['com.docker.compose.service'],
    number: Number(c.Labels['com.docker.compose.container-number']),
    state: c.State,
    exitCode: c.ExitCode,
    // libpod's list gives the health state as the Status of a container that has a check.
    health: ['healthy', 'unhealthy', 'starting'].includes(c.Status) ? c.Status : undefined,
  }));
}

/** Removes what a project left, whatever state docker-compose left it in: containers, volumes, networks. */
async function removeProject(project) {
  const label = `label=com.docker.compose.project=${project}`;
  const quiet = (args) => podman(args).catch(() => '');
  const ids = (await quiet(['ps', '-aq', '--filter', label])).split('\n').filter(Boolean);
  if (ids.length) await quiet(['rm', '-f', '-v', '-t', '5', ...ids]);
  const volumes = (await quiet(['volume', 'ls', '-q', '--filter', label])).split('\n').filter(Boolean);
  if (volumes.length) await quiet(['volume', 'rm', '-f', ...volumes]);
  const networks = (await quiet(['network', 'ls', '-q', '--filter', label])).split('\n').filter(Boolean);
  if (networks.length) await quiet(['network', 'rm', '-f', ...networks]);
}

/**
 * Starts Redis, the S3 stand-in, the API and `workers` workers with `docker-compose up -d`
 * (which waits for the depends_on conditions: Redis and S3 healthy, the bucket there), then
 * waits until the API and every worker report healthy. Returns the API's URL on the host, the
 * API key the stack accepts, a compose() runner and stop().
 */
export async function startStack({ workers = 2, project = `spotter-${randomBytes(4).toString('hex')}`, timeoutMs = 300_000 } = {}) {
  const images = imageNames();
  const service = await startPodmanService();
  const stopHealth = driveHealthChecks(service.socket, `com.docker.compose.project=${project}`);
  const port = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  const env = {
    ...podmanEnv(),
    DOCKER_HOST: service.dockerHost,
    API_HOST_PORT: String(port),
    MINIO_CONSOLE_HOST_PORT: String(await freePort()),
    MINIO_ROOT_USER: 'S3RVER',
    MINIO_ROOT_PASSWORD: 'S3RVER',
    SPOTTER_API_KEYS: apiKey,
    SPOTTER_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    SPOTTER_REDIS_IMAGE: images.redis,
    SPOTTER_S3_IMAGE: images.s3rver,
    SPOTTER_API_IMAGE: images.api,
    SPOTTER_WORKER_IMAGE: images.worker,
  };
  const compose = async (args, { timeout = timeoutMs } = {}) => {
    const files = COMPOSE_FILES.flatMap((f) => ['-f', path.join(root, f)]);
    const { stdout, stderr } = await promisify(execFile)('docker-compose', ['--ansi', 'never', '-p', project, ...files, ...args], { cwd: root, env, timeout, maxBuffer: 64 << 20 });
    return stdout + stderr;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // SIGTERM first: workers finish what they hold; then whatever is left goes anyway.
    await compose(['down', '--volumes', '--remove-orphans', '--timeout', '30'], { timeout: 120_000 }).catch((err) => say(`docker-compose down: ${err.message}`));
    await removeProject(project);
    stopHealth();
    await service.stop();
  };
  const started = Date.now();
  try {
    await compose(['up', '-d', '--no-build', '--scale', `worker=${workers}`]);
    const upMs = Date.now() - started;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const app = (await containersOf(service.socket, project)).filter((c) => c.service === 'api' || c.service === 'worker');
      const bad = app.find((c) => c.state !== 'running' || c.health === 'unhealthy');
      if (bad) throw new Error(`${bad.name} is ${bad.state}${bad.health ? ` (${bad.health})` : ''}`);
      if (app.length === workers + 1 && app.every((c) => c.health === 'healthy')) break;
      if (Date.now() > deadline) throw new Error(`the API and workers were not healthy within ${timeoutMs / 1000} s: ${JSON.stringify(app)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { project, url: `http://127.0.0.1:${port}`, apiKey, socket: service.socket, compose, upMs, healthyMs: Date.now() - started, containers: () => containersOf(service.socket, project), stop };
  } catch (err) {
    // What the containers said, before stop() removes them.
    const report = [];
    for (const c of await containersOf(service.socket, project).catch(() => [])) {
      if (c.state === 'running' && c.health !== 'unhealthy' && !(c.exitCode > 0)) continue;
      report.push(`--- ${c.name} (${c.state}, exit ${c.exitCode}, ${c.health ?? 'no health check'}):\n${await podman(['logs', '--tail', '30', c.id]).catch((e) => e.message)}`);
    }
    await stop();
    err.message += `\n${report.join('\n')}`;
    throw err;
  }
}

/** `npm run images`: the stack in the foreground until Ctrl-C (or SIGTERM), then removed. */
export async function runStackUntilInterrupted() {
  const stack = await startStack();
  say(`stack ${stack.project} healthy in ${(stack.healthyMs / 1000).toFixed(1)} s (docker-compose up returned after ${(stack.upMs / 1000).toFixed(1)} s)`);
  say(`API: ${stack.url} (Authorization: Bearer ${stack.apiKey}); podman ps --filter label=com.docker.compose.project=${stack.project}`);
  say('Ctrl-C stops and removes the stack');
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping the stack');
  await stack.stop();
}
