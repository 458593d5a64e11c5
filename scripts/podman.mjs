// Podman on a machine with neither a Docker engine nor systemd (this repository's
// development and CI machines): the packages, a containers.conf that works here, the
// Docker-compatible API service that docker-compose drives, and the health checks that
// systemd would otherwise run. Plain Node.js, used by scripts/images.mjs and its test.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackage, fail, root, which } from './lib.mjs';

/** Debian's packages: podman 4.3 with runc (crun 1.8 refuses this cgroup set-up: "cgroups in hybrid mode not supported"), netavark (which sets up its bridges with iptables) and aardvark-dns (service names resolve on a compose network), debootstrap (scripts/images.mjs makes the base images) and docker-compose 1.29. */
const PACKAGES = ['podman', 'runc', 'netavark', 'aardvark-dns', 'iptables', 'debootstrap', 'docker-compose'];
const COMMANDS = ['podman', 'runc', 'iptables', 'debootstrap', 'docker-compose'];

const version = (app) => JSON.parse(readFileSync(path.join(root, 'apps', app, 'package.json'), 'utf8')).version;

/** The image names: the Dockerfile's targets as the Kubernetes manifests name them, its build stage, and the stand-ins. */
export function imageNames() {
  const s3rver = /^  s3rver@(\d+\.\d+\.\d+):/m.exec(readFileSync(path.join(root, 'pnpm-lock.yaml'), 'utf8'))?.[1];
  if (!s3rver) fail('pnpm-lock.yaml has no s3rver version');
  return {
    build: `localhost/spotter-build:${version('api')}`,
    api: `localhost/spotter-api:${version('api')}`,
    worker: `localhost/spotter-worker:${version('worker')}`,
    redis: 'localhost/spotter-stand-in/redis:bookworm',
    s3rver: `localhost/spotter-stand-in/s3rver:${s3rver}`,
    s3rverVersion: s3rver,
  };
}

/** Why images cannot be built and run here, or undefined when they can. */
export function podmanUnavailable() {
  if (process.platform !== 'linux') return `containers need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'podman runs rootful here and needs root (rootless podman needs subuid ranges and slirp4netns, not set up)';
  const missing = COMMANDS.filter((c) => !which(c));
  return missing.length ? `missing ${missing.join(', ')} (Debian: apt-get install --no-install-recommends ${PACKAGES.join(' ')})` : undefined;
}

/** Installs the packages with apt-get when root can; with `optional`, reports instead of failing. */
export function ensurePodman({ optional = false } = {}) {
  return ensureDebianPackage(() => !podmanUnavailable(), PACKAGES, `images cannot be built here: ${podmanUnavailable()}`, { optional, noRecommends: true });
}

/** The hard limit of one resource of this process (`Max open files`), from /proc. */
function hardLimit(name) {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const value = line?.slice(26).trim().split(/\s+/)[1];
  return value && value !== 'unlimited' ? Number(value) : undefined;
}

/**
 * Writes the containers.conf every podman call here uses (CONTAINERS_CONF): runc, cgroupfs
 * (no systemd to manage cgroups), events in a file (no journald), and default ulimits within
 * this machine's hard limits (podman's defaults, 1048576 open files, exceed them and runc
 * fails to start the container).
 */
export function containersConf() {
  const dir = path.join(root, '.tmp', 'podman');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'containers.conf');
  // This sandbox reports 96367 processes as the hard limit but refuses any nproc above 32768
  // (runc: "error setting rlimit type 6: operation not permitted"; measured).
  const nproc = Math.min(hardLimit('Max processes') ?? Infinity, 32768);
  const ulimits = [['nofile', hardLimit('Max open files')], ['nproc', nproc]]
    .filter(([, v]) => v && Number.isFinite(v))
    .map(([k, v]) => `"${k}=${v}:${v}"`);
  writeFileSync(
    file,
    [
      '# Written by scripts/podman.mjs: podman 4.3 on a machine without systemd.',
      '[containers]',
      `default_ulimits = [${ulimits.join(', ')}]`,
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '',
    ].join('\n'),
  );
  return file;
}

export const podmanEnv = () => ({ ...process.env, CONTAINERS_CONF: containersConf() });

/** Runs podman, output shown; stops the script when it fails. */
export function podmanSync(args, opts = {}) {
  const r = spawnSync('podman', args, { cwd: root, stdio: 'inherit', env: podmanEnv(), ...opts });
  if (r.status !== 0) fail(`podman ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r;
}

/** Runs podman and resolves with its stdout (rejects with its stderr). */
export async function podman(args, { timeout = 120_000 } = {}) {
  const { stdout } = await promisify(execFile)('podman', args, { cwd: root, env: podmanEnv(), timeout, maxBuffer: 64 << 20 });
  return stdout;
}

/** A request to the podman service's API (Docker-compatible and libpod routes); JSON in, JSON out. */
export function engine(socket, method, route) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: route, timeout: 60_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(body);
        } catch {
          json = body;
        }
        resolve({ status: res.statusCode, body: json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`podman API ${method} ${route} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `podman system service` on a private socket (what docker-compose talks to, as
 * DOCKER_HOST) and resolves once it answers /_ping. `stop()` ends it; the containers it
 * started are the caller's to remove first.
 */
export async function startPodmanService() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spotter-podman-'));
  const socket = path.join(dir, 'podman.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: podmanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`podman system service exited with ${child.exitCode}: ${stderr}`);
    const ping = await engine(socket, 'GET', '/_ping').catch(() => undefined);
    if (ping?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not answer within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { socket, dockerHost: `unix://${socket}`, stop };
}

/**
 * Runs the HEALTHCHECK of every running container labelled `label` at its image's interval,
 * from its start on, as Docker's daemon does (podman leaves that to systemd timers, which do
 * not run here): docker-compose's `condition: service_healthy` and `podman ps` then see real
 * health states. One check in flight per container. Returns stop().
 */
export function driveHealthChecks(socket, label) {
  const checks = new Map(); // id -> { intervalMs, next, running }
  const filters = encodeURIComponent(JSON.stringify({ label: [label], status: ['running'] }));
  let stopped = false;
  let timer;
  const tick = async () => {
    const list = await engine(socket, 'GET', `/v4.0.0/libpod/containers/json?filters=${filters}`).catch(() => ({ body: [] }));
    for (const c of Array.isArray(list.body) ? list.body : []) {
      if (!checks.has(c.Id)) {
        const inspect = await engine(socket, 'GET', `/v4.0.0/libpod/containers/${c.Id}/json`).catch(() => undefined);
        const hc = inspect?.body?.Config?.Healthcheck;
        const intervalMs = hc?.Test?.length && hc.Test[0] !== 'NONE' ? (hc.Interval || 30e9) / 1e6 : 0;
        checks.set(c.Id, { intervalMs, next: Number(c.StartedAt) * 1000 + intervalMs, running: false });
      }
      const check = checks.get(c.Id);
      if (!check.intervalMs || check.running || Date.now() < check.next) continue;
      check.running = true;
      engine(socket, 'GET', `/v4.0.0/libpod/containers/${c.Id}/healthcheck`)
        .catch(() => undefined)
        .finally(() => {
          check.running = false;
          check.next = Date.now() + check.intervalMs;
        });
    }
    if (!stopped) timer = setTimeout(tick, 500);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
