// `npm run images`: builds Spotter's images from the Dockerfile with podman, as on a machine
// that has no Docker engine and reaches no registry, then starts the compose stack from them
// (scripts/stack.mjs) until Ctrl-C. `npm run images -- --build-only` stops after the builds.
// The base images the Dockerfile and the stand-ins need are made here: Debian bookworm by
// debootstrap from the mirror this machine's apt uses, and node from this machine's node.
// See docs/building.md#images-built-with-podman.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianBase } from './debian-base.mjs';
import { ensureDependencies, ensureModel, fail, MODEL, root, say } from './lib.mjs';
import { ensurePodman, imageNames, podmanEnv, podmanSync } from './podman.mjs';

export { imageNames };

const STAND_INS = path.join(root, 'deploy', 'podman');

/** The node base the Dockerfile pins (`FROM node:<version>-bookworm-slim AS node`), as a full name. */
export function nodeBaseName() {
  const from = /^FROM\s+(node:(\d+\.\d+\.\d+)-bookworm-slim)\s+AS\s+node$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  if (!from) fail('the Dockerfile has no `FROM node:<version>-bookworm-slim AS node` stage');
  return { name: `docker.io/library/${from[1]}`, version: from[2] };
}

const imageId = (name) => spawnSync('podman', ['image', 'inspect', '--format', '{{.Id}}', name], { encoding: 'utf8', env: podmanEnv() }).stdout.trim();

/**
 * `podman build` with the flags this podman needs (--pull=never: nothing to pull from;
 * --format docker: the OCI format drops HEALTHCHECK), timed. The image the tag named before,
 * if this build replaced it, is removed (when nothing else holds it), so that rebuilds do not
 * pile up: only this script's own images.
 */
function build(tag, args, context) {
  const before = imageId(tag);
  const started = Date.now();
  podmanSync(['build', '--pull=never', '--format', 'docker', '--layers', '-t', tag, ...args, context]);
  const seconds = (Date.now() - started) / 1000;
  const after = imageId(tag);
  if (before && before !== after) spawnSync('podman', ['rmi', before], { stdio: 'ignore', env: podmanEnv() });
  return seconds;
}

/** The stand-in for the pinned node image: this machine's node, npm and corepack on the Debian base. */
function buildNodeBase(debian) {
  const { name, version: wanted } = nodeBaseName();
  if (process.versions.node !== wanted) {
    fail(`the Dockerfile pins node ${wanted}, this machine's node is ${process.versions.node}: the stand-in for ${name} must be that version`);
  }
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'spotter-node-base-'));
  try {
    const node = realpathSync(process.execPath);
    cpSync(node, path.join(ctx, 'node'));
    const modules = path.resolve(path.dirname(node), '..', 'lib', 'node_modules');
    for (const pkg of ['npm', 'corepack']) {
      if (!existsSync(path.join(modules, pkg))) fail(`no ${pkg} in ${modules}`);
      cpSync(path.join(modules, pkg), path.join(ctx, 'node_modules', pkg), { recursive: true, verbatimSymlinks: true });
    }
    cpSync(path.join(STAND_INS, 'docker-entrypoint.sh'), path.join(ctx, 'docker-entrypoint.sh'));
    // The files keep the host's mtimes, so an unchanged node is a cached layer.
    return build(name, ['-f', path.join(STAND_INS, 'node.Containerfile'), '--build-arg', `DEBIAN_BASE=${debian}`, '--build-arg', `NODE_VERSION=${wanted}`], ctx);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** The directory that holds the model for the build stage's strict check (mounted read-only at /shared/models). */
async function modelDir() {
  const shared = path.resolve(root, '..', 'shared', 'models');
  if (existsSync(path.join(shared, MODEL.file))) return shared;
  return path.dirname(await ensureModel());
}

/**
 * Builds every image the stack needs, each cached by podman's layers: the bases (Debian,
 * node), the Redis and S3 stand-ins, and the Dockerfile's `api` and `worker` targets.
 * Returns the seconds each build took.
 */
export async function buildImages({ targets = ['api', 'worker'] } = {}) {
  ensurePodman();
  const names = imageNames();
  const times = {};
  const started = Date.now();
  const debian = debianBase();
  times.debian = (Date.now() - started) / 1000;
  times.node = buildNodeBase(debian.name);
  times.redis = build(names.redis, ['-f', path.join(STAND_INS, 'redis.Containerfile'), '--build-arg', `DEBIAN_BASE=${debian.name}`], STAND_INS);
  times.s3rver = build(names.s3rver, ['-f', path.join(STAND_INS, 's3rver.Containerfile'), '--build-arg', `NODE_BASE=${nodeBaseName().name}`, '--build-arg', `S3RVER_VERSION=${names.s3rverVersion}`], STAND_INS);
  const models = await modelDir();
  // The build stage first, under a tag of its own: the targets reuse it from the layer cache,
  // and build() removes the stage an earlier run left (1.6 GB each) instead of piling them up.
  for (const target of ['build', ...targets]) {
    say(`building ${target === 'build' ? 'the build stage' : `the ${target} image`} (Dockerfile target ${target})`);
    // ACCELERATOR given explicitly: podman 4.3 otherwise skips the worker-tree-${ACCELERATOR} stages.
    times[target] = build(names[target], ['--target', target, '--build-arg', 'ACCELERATOR=cpu', '--volume', `${models}:/shared/models:ro`, '-f', 'Dockerfile'], root);
  }
  return times;
}

/** One line of build times, as `npm run images` and `npm run test:images` print them. */
export const describeBuild = (times) => `built in ${Object.entries(times).map(([k, s]) => `${k} ${s.toFixed(1)} s`).join(', ')}; sizes (MB): ${JSON.stringify(imageSizes())}`;

/** Image sizes in MB, as podman reports them (uncompressed). */
export function imageSizes(names = imageNames()) {
  const mb = (name) => Math.round(Number(spawnSync('podman', ['image', 'inspect', '--format', '{{.Size}}', name], { encoding: 'utf8', env: podmanEnv() }).stdout) / 1e6);
  return Object.fromEntries(['api', 'worker', 'redis', 's3rver'].map((k) => [k, mb(names[k])]));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureDependencies();
  say(describeBuild(await buildImages()));
  if (!process.argv.includes('--build-only')) {
    const { runStackUntilInterrupted } = await import('./stack.mjs');
    await runStackUntilInterrupted();
  }
}
