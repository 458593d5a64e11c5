import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '@spotter/config';
import { MODEL, PRODUCTION_NODE_OPTIONS, root } from '../scripts/lib.mjs';

type Service = {
  image?: string;
  build?: { context: string; target: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
};

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  body: Instruction[];
}

/** The Dockerfile's global ARGs and its stages, each instruction on one line (continuations joined, comments dropped). */
function parseDockerfile(text: string) {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const ins = { op: op.toUpperCase(), args };
    if (ins.op === 'FROM') {
      const [from = '', , name = `stage${stages.length}`] = args.split(/\s+/);
      stages.push({ name, from, body: [] });
    } else if (stages.length === 0) globalArgs.push(ins);
    else stages.at(-1)!.body.push(ins);
  }
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`no stage ${name}`);
    return s;
  };
  return { globalArgs, stages, stage };
}
const all = (s: Stage, op: string) => s.body.filter((i) => i.op === op).map((i) => i.args);
const last = (s: Stage, op: string) => all(s, op).at(-1);

/** A digest, or a tag with at least major.minor (7.4.6-alpine, v2.53.5) or a dated release (MinIO's). */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  // The tag follows the last ':' after the last '/' (a registry host may carry a port).
  const tag = /:([^:/]+)$/.exec(image)?.[1] ?? '';
  return /\d+\.\d+/.test(tag) || /^RELEASE\.\d{4}-\d{2}-\d{2}T/.test(tag);
}

// No Docker engine runs here: check the file's structure and its env against the config schema.
describe('docker-compose.yml', async () => {
  const compose = parse(await readFile(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const { services } = compose;

  it('has redis, minio with bucket creation, the api and a scalable worker', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['redis', 'minio', 'minio-init', 'api', 'worker', 'otel-collector', 'jaeger', 'prometheus', 'grafana']),
    );
    expect(services['minio-init']!.command!.join(' ')).toMatch(/mc mb --ignore-existing local\/spotter/);
    // Each runs its Dockerfile target's compiled entry point (its CMD): no command override.
    expect(services.api!.build).toEqual({ context: '.', target: 'api' });
    expect(services.worker!.build).toEqual({ context: '.', target: 'worker' });
    for (const name of ['api', 'worker']) expect(services[name]!.command, name).toBeUndefined();
    // --scale worker=N needs no fixed name and no published host port.
    expect(services.worker!.container_name).toBeUndefined();
    expect(services.worker!.ports).toBeUndefined();
  });

  it.each(['api', 'worker'])('gives the %s only variables the config schema knows, and they parse', (name) => {
    const env = services[name]!.environment!;
    const known = Object.keys(EnvSchema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    // Substitute ${VAR:-default} / ${VAR:?msg} as compose would, with placeholder secrets.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_m, _n, def) => def ?? 'a-placeholder-secret-value')]),
    );
    const cfg = loadConfig(resolved);
    expect(cfg.storage).toMatchObject({ kind: 's3', bucket: 'spotter', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(cfg.redis.url).toBe('redis://redis:6379');
    expect(cfg.http.apiKeys.length).toBeGreaterThan(0);
    expect(cfg.telemetry.otlpEndpoint).toBe('http://otel-collector:4318');
  });

  it('pins every image to a release (no latest, no major-only tag)', () => {
    const images = Object.entries(services).flatMap(([name, s]) => (s.image ? [[name, s.image] as const] : []));
    expect(images.length).toBeGreaterThanOrEqual(7);
    for (const [name, image] of images) expect(isPinned(image), `${name}: ${image}`).toBe(true);
    // What the file had before: floating tags are refused.
    for (const floating of ['minio/minio:latest', 'minio/minio', 'redis:7-alpine', 'localhost:5000/grafana']) expect(isPinned(floating), floating).toBe(false);
    expect(isPinned(`redis@sha256:${'a'.repeat(64)}`)).toBe(true);
  });

  it('has Prometheus scrape the ports the api and workers listen on', async () => {
    const prom = parse(await readFile(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const byJob = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c]));
    expect(byJob['spotter-api']!.static_configs![0]!.targets).toEqual([`api:${services.api!.environment!.PORT}`]);
    expect(byJob['spotter-worker']!.dns_sd_configs![0]).toMatchObject({ names: ['worker'], port: Number(services.worker!.environment!.SPOTTER_METRICS_PORT) });
  });
});

describe('Dockerfile', async () => {
  const text = await readFile(path.join(root, 'Dockerfile'), 'utf8');
  const { globalArgs, stages, stage } = parseDockerfile(text);
  const build = stage('build');
  const targets = ['api', 'worker'].map(stage);

  it('copies every workspace package manifest, and the pnpm hooks, before the frozen install', async () => {
    const manifests = ['bench'];
    for (const dir of ['apps', 'packages']) for (const name of await readdir(path.join(root, dir))) manifests.push(`${dir}/${name}`);
    const install = build.body.findIndex((i) => i.op === 'RUN' && /pnpm@[\d.]+ install --frozen-lockfile/.test(i.args));
    const copies = build.body.slice(0, install).filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const m of manifests) expect(copies, m).toContain(`${m}/package.json ${m}/`);
    // The lockfile records .pnpmfile.cjs's checksum: a frozen install without it fails.
    expect(copies.join(' ')).toMatch(/\.pnpmfile\.cjs/);
    // The pnpm the install runs is the one package.json pins.
    const pinned = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;
    expect(build.body[install]!.args).toContain(pinned);
  });

  it('pins every base image to a release, Node on the line package.json requires', async () => {
    const names = new Set(stages.map((s) => s.name));
    const images = stages.map((s) => s.from).filter((f) => !names.has(f) && !f.includes('$'));
    expect(images).toEqual(expect.arrayContaining([expect.stringMatching(/^node:/), expect.stringMatching(/^nvidia\/cuda:.*cudnn.*runtime/)]));
    for (const image of images) expect(isPinned(image), image).toBe(true);
    const node = /^node:(\d+)\.(\d+)\.\d+-/.exec(images.find((i) => i.startsWith('node:'))!)!;
    const engines = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const [, major, minor] = /(\d+)\.(\d+)/.exec(engines)!;
    expect(Number(node[1])).toBe(Number(major));
    expect(Number(node[2])).toBeGreaterThanOrEqual(Number(minor));
  });

  it('compiles in the build stage and runs each app from its pnpm deploy --prod tree, on plain node', () => {
    const run = all(build, 'RUN').join(' && ');
    expect(run).toContain('npm run build');
    // The very commands test/build/deploy.test.ts runs outside Docker.
    for (const app of ['api', 'worker']) expect(run).toContain(`node scripts/deploy.mjs ${app} /out/${app}`);
    expect(all(build, 'COPY')).toContain('. .');
    for (const t of targets) {
      // Nothing from the build context, only the deployed tree and the checked model.
      const copies = all(t, 'COPY');
      expect(copies.every((c) => c.startsWith('--from=')), t.name).toBe(true);
      expect(copies.some((c) => new RegExp(`/out/${t.name} \\./?$`).test(c)), t.name).toBe(true);
      expect(copies).toContain('--from=build /src/models ./models');
      expect(last(t, 'WORKDIR')).toBe('/app');
      expect(JSON.parse(last(t, 'CMD')!)).toEqual(['node', 'dist/main.js']);
      // The V8 options the benchmark and test/build measure as production (scripts/lib.mjs).
      expect(all(t, 'ENV').join(' ')).toContain(`NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS}`);
    }
    expect(stages.flatMap((st) => st.body.map((i) => i.args)).join('\n')).not.toMatch(/tsx|--conditions|src\/main\.ts/);
    expect(stage('worker-tree-cpu').from).toBe('build');
  });

  it('runs as a non-root user that owns the data volume', () => {
    for (const t of targets) {
      expect(last(t, 'USER'), t.name).toBe('node');
      expect(all(t, 'RUN').join(' '), t.name).toMatch(/mkdir data && chown node:node data/);
      expect(all(t, 'VOLUME'), t.name).toContain('["/app/data"]');
      // USER comes after the last RUN and COPY: the files are root's, the process is not.
      const userAt = t.body.findIndex((i) => i.op === 'USER');
      expect(t.body.slice(userAt).some((i) => i.op === 'RUN' || i.op === 'COPY'), t.name).toBe(false);
    }
    // The CUDA base has no `node` user: it makes one with the uid the Kubernetes manifests name.
    expect(all(stage('base-cuda'), 'RUN').join(' ')).toMatch(/useradd --uid 1000 --gid node .* node/);
  });

  it('has a node-based HEALTHCHECK on each readiness endpoint (slim images have no curl)', () => {
    const ports = { api: 'PORT', worker: 'SPOTTER_METRICS_PORT' } as const;
    for (const t of targets) {
      const hc = last(t, 'HEALTHCHECK')!;
      const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
      expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
      expect(cmd[2]).toContain(`process.env.${ports[t.name as 'api' | 'worker']}`);
      expect(cmd[2]).toContain('/readyz');
      expect(all(t, 'ENV').join(' ')).toMatch(new RegExp(`${ports[t.name as 'api' | 'worker']}=\\d+`));
    }
  });

  it('never copies a .env file (the context ignores it) nor host builds', async () => {
    const ignore = (await readFile(path.join(root, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    for (const p of ['.env', '.env.*', '**/.env', '**/.env.*', 'node_modules', '**/node_modules', '**/dist', 'models']) expect(ignore, p).toContain(p);
    expect(text).not.toMatch(/COPY[^\n]*\.env/);
  });

  it('fails the build when the model is not the known build (ensureModel strict)', async () => {
    expect(all(build, 'RUN').join(' ')).toContain('ensureModel({ strict: true })');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-model-'));
    const strict = (modelDir: string) =>
      promisify(execFile)(process.execPath, ['-e', "import('./scripts/lib.mjs').then((m) => m.ensureModel({ strict: true }))"], {
        cwd: root,
        env: { PATH: process.env.PATH, SPOTTER_MODEL_DIR: modelDir },
      });
    try {
      await copyFile(path.join(root, 'models', MODEL.file), path.join(dir, MODEL.file));
      await strict(dir);
      await writeFile(path.join(dir, MODEL.file), 'not the model');
      await expect(strict(dir)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`not the known build's ${MODEL.sha256}`) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds the GPU worker with --build-arg ACCELERATOR=cuda, onnxruntime-node installing its CUDA provider', async () => {
    expect(globalArgs).toContainEqual({ op: 'ARG', args: 'ACCELERATOR=cpu' });
    expect(stage('worker').from).toBe('base-${ACCELERATOR}');
    expect(stage('worker-tree').from).toBe('worker-tree-${ACCELERATOR}');
    for (const a of ['cpu', 'cuda']) for (const prefix of ['base', 'worker-tree']) stage(`${prefix}-${a}`);
    expect(stage('api').from).toBe('base-cpu');
    expect(all(stage('worker'), 'COPY')[0]).toBe('--from=worker-tree /out/worker ./');
    // The flag the installed onnxruntime-node's install script accepts on this platform.
    const cuda = all(stage('worker-tree-cuda'), 'RUN').join(' ');
    const flag = /ONNXRUNTIME_NODE_INSTALL=(\w+) node script\/install\.js/.exec(cuda)?.[1];
    const store = path.join(root, 'node_modules', '.pnpm');
    const ort = (await readdir(store)).find((d) => d.startsWith('onnxruntime-node@'))!;
    const { createRequire } = await import('node:module');
    const metadata = createRequire(import.meta.url)(path.join(store, ort, 'node_modules/onnxruntime-node/script/install-metadata.js')) as { requirements: Record<string, string[]> };
    expect(metadata.requirements['linux/x64']).toContain(flag);
  });
});
