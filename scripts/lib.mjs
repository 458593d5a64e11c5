// Set-up shared by `npm start` and `npm test`. Plain Node.js: it runs before dependencies exist.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

export const MODEL = {
  file: 'yolox_nano.onnx',
  sha256: 'd39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a',
  url: 'https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx',
};

/**
 * The export condition under which workspace packages resolve to their TypeScript sources
 * (tsconfig.json `customConditions`, vitest.config.ts, SOURCE_NODE_ARGS); without it they
 * resolve to their compiled dist/ (npm run build), as in production.
 */
export const SOURCE_CONDITION = 'spotter-source';

/** Node's arguments to run a TypeScript entry point from source: sources resolved, tsx transpiling. */
export const SOURCE_NODE_ARGS = [`--conditions=${SOURCE_CONDITION}`, '--import', 'tsx'];

/** Node's arguments for an entry point: a `.ts` file from source, compiled JavaScript as it is. */
export const nodeArgs = (entry) => (entry.endsWith('.ts') ? [...SOURCE_NODE_ARGS, entry] : [entry]);

/**
 * V8 options the production images set (Dockerfile: ENV NODE_OPTIONS, checked by
 * test/docker-compose.test.ts): semi-spaces (the young generation) capped at 4 MB instead of
 * 16. Measured with `npm run bench -- --footprint` (docs/building.md): idle RSS -9 MB (API)
 * and -11 MB (worker), peak RSS -24 MB under the ingest benchmark (API: upload buffers are
 * freed by more frequent scavenges) and under jobs (worker), with no measurable change in
 * CPU per job; 1-2 MB did worse under ingest (the buffers' wrappers got promoted).
 */
export const PRODUCTION_NODE_OPTIONS = '--max-semi-space-size=4';

export function say(msg) {
  process.stderr.write(`[spotter] ${msg}\n`);
}

export function fail(msg) {
  say(`error: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** pnpm at the version pinned in package.json `packageManager`. */
export function pnpm(args, opts) {
  const version = pkg.packageManager.split('@')[1];
  run('npx', ['--yes', `pnpm@${version}`, ...args], opts);
}

/** Installs dependencies when the lockfile changed since the last install, and builds the JPEG addon. */
export function ensureDependencies() {
  ensureNativeJpeg();
  const lock = readFileSync(path.join(root, 'pnpm-lock.yaml'));
  const stamp = path.join(root, 'node_modules', '.spotter-install');
  const digest = createHash('sha256').update(lock).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  say('installing dependencies (pnpm install --frozen-lockfile)');
  // onnxruntime-node's install script would fetch CUDA libraries; the CPU build ships in the package.
  pnpm(['install', '--frozen-lockfile'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  writeFileSync(stamp, digest);
}

/**
 * Builds packages/imaging/native/jpeg-fit.c (the worker's JPEG decoder: libjpeg-turbo without
 * libvips, docs/performance.md) against Debian's libjpeg-turbo with the C compiler, when the
 * source or Node's headers changed since the last build. Optional: where it cannot be built
 * the worker decodes every picture with sharp, at about three times the CPU per JPEG.
 */
export function ensureNativeJpeg() {
  const dir = path.join(root, 'packages', 'imaging', 'native');
  const source = path.join(dir, 'jpeg-fit.c');
  const out = path.join(dir, 'build', 'jpeg-fit.node');
  const headers = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  const digest = createHash('sha256').update(readFileSync(source)).update(process.version).digest('hex');
  const stamp = `${out}.sha256`;
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return true;
  const hint = 'the native JPEG decoder is not built (the worker uses sharp for JPEGs): it needs a C compiler and libjpeg-turbo headers (Debian: apt-get install gcc libc6-dev libjpeg62-turbo-dev)';
  if (!ensureDebianPackage(() => Boolean(which('cc')), 'gcc', hint, { optional: true })) return false;
  if (!ensureDebianPackage(() => existsSync('/usr/include/jpeglib.h'), 'libjpeg62-turbo-dev', hint, { optional: true })) return false;
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('cc', ['-O3', '-Wall', '-shared', '-fPIC', `-I${headers}`, source, '-ljpeg', '-lm', '-o', tmp], { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    say(`warning: ${hint} (cc exited with ${r.status ?? r.signal})`);
    return false;
  }
  renameSync(tmp, out);
  writeFileSync(stamp, digest);
  say('built the native JPEG decoder (packages/imaging/native/build/jpeg-fit.node)');
  return true;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Makes sure the default model is in SPOTTER_MODEL_DIR: there already, from ../shared/models, or
 * downloaded. With `strict` (the Dockerfile), a file that differs from the known build fails
 * instead of warning, and a file that was already there is checked too.
 */
export async function ensureModel({ strict = false } = {}) {
  const dir = path.resolve(root, process.env.SPOTTER_MODEL_DIR ?? 'models');
  const target = path.join(dir, MODEL.file);
  if (existsSync(target)) return strict ? checkModel(target, strict) : target;
  mkdirSync(dir, { recursive: true });
  const offline = path.resolve(root, '..', 'shared', 'models', MODEL.file);
  if (existsSync(offline)) {
    say(`copying the model from ${offline}`);
    copyFileSync(offline, target);
  } else {
    say(`downloading ${MODEL.url}`);
    const res = await fetch(MODEL.url).catch((err) => fail(`cannot download the model: ${err.message}`));
    if (!res.ok) fail(`cannot download the model: HTTP ${res.status}`);
    const tmp = `${target}.part`;
    writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
    renameSync(tmp, target);
  }
  return checkModel(target, strict);
}

function checkModel(target, strict) {
  const digest = sha256(target);
  if (digest !== MODEL.sha256) {
    const msg = `${target} has sha256 ${digest}, not the known build's ${MODEL.sha256}`;
    if (strict) fail(msg);
    say(`warning: ${msg}`);
  }
  return target;
}

/** Every file under `dir` (recursively), sorted, for change detection. */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Builds the console (apps/console -> apps/console/dist, served by the API at /console) when
 * its sources, the packages it bundles (vision, shared) or the lockfile changed since the
 * last build. The output is never committed.
 */
export function ensureConsole() {
  const app = path.join(root, 'apps', 'console');
  const sources = [
    ...['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'].map((f) => path.join(app, f)),
    ...filesUnder(path.join(app, 'src')),
    ...filesUnder(path.join(root, 'packages', 'vision', 'src')),
    ...filesUnder(path.join(root, 'packages', 'shared', 'src')),
    path.join(root, 'pnpm-lock.yaml'),
  ];
  const hash = createHash('sha256');
  for (const f of sources) hash.update(path.relative(root, f)).update('\0').update(readFileSync(f));
  const digest = hash.digest('hex');
  const stamp = path.join(app, 'dist', '.spotter-build');
  if (existsSync(path.join(app, 'dist', 'index.html')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  say('building the console (vite build in apps/console)');
  run(path.join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: app });
  writeFileSync(stamp, digest);
}

export const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

/**
 * Installs Debian packages (`pkg`: one name or several) when `present()` is false: with
 * apt-get as root, else stops with `hint`. With `optional`, packages that cannot be had are
 * reported and the run goes on (the tests that need them skip and say why). With
 * `noRecommends`, apt installs what the packages depend on only (docker-compose recommends a
 * Docker engine that nothing here wants).
 */
export function ensureDebianPackage(present, pkg, hint, { optional = false, noRecommends = false } = {}) {
  if (present()) return true;
  const pkgs = [pkg].flat();
  if (process.getuid?.() === 0 && which('apt-get')) {
    say(`installing ${pkgs.join(' ')} with apt-get`);
    const install = ['install', '-y', '-qq', ...(noRecommends ? ['--no-install-recommends'] : []), ...pkgs];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!optional) {
      run('apt-get', ['update', '-qq']);
      run('apt-get', install, { env });
      return true;
    }
    const opts = { stdio: 'inherit', env };
    if (spawnSync('apt-get', ['update', '-qq'], opts).status === 0) spawnSync('apt-get', install, opts);
    if (present()) return true;
  }
  if (!optional) fail(hint);
  say(`warning: ${hint}`);
  return false;
}

/** Makes sure `redis-server` exists (only needed when REDIS_URL is unset). */
export function ensureRedisServer() {
  ensureDebianPackage(() => Boolean(which('redis-server')), 'redis-server', 'redis-server not found: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL');
}

/** Debian's Chromium for the browser tests (never a downloaded browser build). */
export function ensureChromium() {
  ensureDebianPackage(() => existsSync('/usr/bin/chromium'), 'chromium', 'chromium not found at /usr/bin/chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)');
}

/**
 * kubectl renders the Kubernetes manifests offline (`kubectl kustomize`); prometheus and
 * promtool check and run the monitoring config. Both only serve test/deploy, so a machine
 * without them still runs the rest of the suite.
 */
export function ensureDeployTools() {
  ensureDebianPackage(() => Boolean(which('kubectl')), 'kubectl', 'kubectl not found: test/deploy/kubernetes.test.ts will skip (install kubectl with kustomize v5)', { optional: true });
  ensureDebianPackage(
    () => Boolean(which('prometheus') && which('promtool')),
    'prometheus',
    'prometheus/promtool not found: test/deploy/prometheus.test.ts will skip (Debian: apt-get install prometheus)',
    { optional: true },
  );
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once `target` (a loopback TCP port, or a Unix socket path) accepts connections. */
async function waitForListener(target, child, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${target} within ${ms} ms`);
}

/**
 * Starts a private redis-server on a free loopback port (or `port`, to restart one) with AOF
 * persistence under `dir`; `args` adds server options, `config` names a config file to read
 * first (Sentinel needs one it can rewrite). With `netns`, the server runs inside that network
 * namespace, listening on `bind` and on a Unix socket in `dir` (reachable from any namespace:
 * that is how the caller waits for it and inspects it). Returns its URL and a stop function.
 * @param {string} dir
 * @param {{ quiet?: boolean, port?: number, args?: string[], config?: string, netns?: string, bind?: string }} [opts]
 */
export async function startRedis(dir, { quiet = true, port: wanted, args = [], config, netns, bind = '127.0.0.1' } = {}) {
  mkdirSync(dir, { recursive: true });
  const port = wanted ?? (netns ? 6379 : await freePort());
  const socket = netns ? path.join(dir, 'redis.sock') : undefined;
  const serverArgs = [
    ...(config ? [config] : []),
    ...['--port', String(port), '--bind', bind, '--dir', dir, '--appendonly', 'yes', '--save', '', '--loglevel', 'warning'],
    // Protected mode refuses every non-loopback client without a password; a namespace the
    // caller made is reachable only from the caller's other namespaces.
    ...['--protected-mode', netns ? 'no' : 'yes'],
    ...(socket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : []),
    ...args,
  ];
  // `ip netns exec` execs the command in place: the child's pid is redis-server's.
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, 'redis-server', ...serverArgs], { stdio: quiet ? 'ignore' : 'inherit' })
    : spawn('redis-server', serverArgs, { stdio: quiet ? 'ignore' : 'inherit' });
  try {
    await waitForListener(socket ?? port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { url: `redis://${bind}:${port}`, port, socket, child, stop };
}

/**
 * Spawns Node on `entry` (a `.ts` source through tsx, or compiled `.js` with plain node: see
 * nodeArgs), inside network namespace `netns` if given, and resolves once its output matches
 * `readyLine`; rejects with the output when it exits first. Used by tests and the benchmark.
 */
export function launchService(name, entry, env, readyLine, timeoutMs = 60_000, { netns } = {}) {
  const argv = [process.execPath, ...nodeArgs(entry)];
  // Inside a network namespace (`ip netns exec` execs node in place, so the pid is node's).
  const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    // A process that never got ready is not left running behind the caller's back.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (chunk) => {
      out += chunk.toString();
      if (readyLine.test(out)) {
        clearTimeout(timer);
        resolve({ name, child, output: () => out, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/** Sends SIGTERM (if still running) and resolves with the exit code. */
export function stopService(service) {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  return service.exited;
}
